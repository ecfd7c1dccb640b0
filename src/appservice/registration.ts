/**
 * The appservice registration: generating one (`-r`) with matrix-appservice-bridge's AppServiceRegistration,
 * and loading/validating the file the SFU runs with. Owns nothing else.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { AppServiceRegistration } from 'matrix-appservice-bridge';
import { parseDocument } from 'yaml';
import type { Config } from '../config/types.js';
import { ConfigError } from '../util/errors.js';

export interface RegexEntry {
  regex: string;
  exclusive: boolean;
}

export interface Registration {
  id: string;
  url: string | null;
  as_token: string;
  hs_token: string;
  sender_localpart: string;
  rate_limited?: boolean;
  receive_ephemeral?: boolean;
  'de.sorunome.msc2409.push_ephemeral'?: boolean;
  'io.element.msc4190'?: boolean;
  namespaces: { users: RegexEntry[]; rooms?: RegexEntry[]; aliases?: RegexEntry[] };
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function focusUserId(localpart: string, serverName: string): string {
  return `@${localpart}:${serverName}`;
}

/** A fresh registration: random tokens, exclusive namespace for the focus user, ephemeral push on. */
export function generateRegistration(config: Config, url: string): Registration {
  const reg = new AppServiceRegistration(url);
  reg.setId(config.appservice.id);
  reg.setHomeserverToken(AppServiceRegistration.generateToken());
  reg.setAppServiceToken(AppServiceRegistration.generateToken());
  reg.setSenderLocalpart(config.appservice.sender_localpart);
  reg.setRateLimited(false);
  reg.pushEphemeral = true;
  reg.addRegexPattern(
    'users',
    `^${escapeRegex(focusUserId(config.appservice.sender_localpart, config.homeserver.server_name))}$`,
    true,
  );
  const out = reg.getOutput();
  return {
    id: out.id,
    url: out.url,
    as_token: out.as_token,
    hs_token: out.hs_token,
    sender_localpart: out.sender_localpart,
    rate_limited: false,
    'de.sorunome.msc2409.push_ephemeral': true,
    receive_ephemeral: true,
    'io.element.msc4190': true,
    namespaces: { users: out.namespaces?.users ?? [], rooms: [], aliases: [] },
  };
}

const regexEntry = {
  type: 'object',
  required: ['regex', 'exclusive'],
  properties: { regex: { type: 'string', minLength: 1 }, exclusive: { type: 'boolean' } },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateRegistration = ajv.compile<Registration>({
  type: 'object',
  required: ['id', 'as_token', 'hs_token', 'sender_localpart', 'namespaces'],
  properties: {
    id: { type: 'string', minLength: 1 },
    url: { type: ['string', 'null'] },
    as_token: { type: 'string', minLength: 1 },
    hs_token: { type: 'string', minLength: 1 },
    sender_localpart: { type: 'string', minLength: 1 },
    rate_limited: { type: 'boolean' },
    receive_ephemeral: { type: 'boolean' },
    'de.sorunome.msc2409.push_ephemeral': { type: 'boolean' },
    namespaces: {
      type: 'object',
      required: ['users'],
      properties: {
        users: { type: 'array', items: regexEntry },
        rooms: { type: 'array', items: regexEntry },
        aliases: { type: 'array', items: regexEntry },
      },
    },
  },
});

function describe(err: ErrorObject): string {
  const path = `registration${err.instancePath.replace(/\//g, '.').replace(/\.(\d+)(?=\.|$)/g, '[$1]')}`;
  if (err.keyword === 'required') {
    return `${path}.${String(err.params['missingProperty'])}: is required`;
  }
  return `${path}: ${err.message ?? 'invalid'}`;
}

/** A token with whitespace or angle brackets is an example's placeholder (`<random as_token>`), never a real one. */
const PLACEHOLDER = /[\s<>]/;

/** Validates a parsed registration against the config; throws ConfigError naming each problem. */
export function validateRegistrationObject(raw: unknown, config: Config): Registration {
  if (!validateRegistration(raw)) {
    throw new ConfigError((validateRegistration.errors ?? []).map(describe));
  }
  const problems: string[] = [];
  const focus = focusUserId(raw.sender_localpart, config.homeserver.server_name);
  const matches = raw.namespaces.users.some((ns) => {
    try {
      return ns.exclusive && new RegExp(ns.regex).test(focus);
    } catch {
      problems.push(`registration.namespaces.users: invalid regex ${JSON.stringify(ns.regex)}`);
      return false;
    }
  });
  if (!matches) {
    problems.push(
      `registration.namespaces.users: must hold an exclusive regex matching the focus user ${focus}`,
    );
  }
  for (const key of ['as_token', 'hs_token'] as const) {
    if (PLACEHOLDER.test(raw[key])) {
      problems.push(
        `registration.${key}: looks like a placeholder (${JSON.stringify(raw[key].slice(0, 40))}): generate a ` +
          'registration with real tokens (-r, see README) and give the homeserver the same file',
      );
    }
  }
  if (raw.as_token === raw.hs_token) {
    problems.push('registration.hs_token: must differ from as_token');
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return raw;
}

export function loadRegistrationFile(path: string, config: Config): Registration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `registration: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    ]);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new ConfigError([
      `registration: invalid YAML in ${path}: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`,
    ]);
  }
  return validateRegistrationObject(doc.toJS(), config);
}

/** True when the registration asks the homeserver to push to-device messages (MSC2409). */
export function pushesToDevice(reg: Registration): boolean {
  return reg.receive_ephemeral === true || reg['de.sorunome.msc2409.push_ephemeral'] === true;
}
