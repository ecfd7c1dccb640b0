/**
 * Loads and validates the YAML configuration. Every problem becomes one line naming its path
 * (`config.media.port_range.min: must be >= 1024`); the caller exits with EX_CONFIG (78).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Ajv, type ErrorObject } from 'ajv';
import { parseDocument } from 'yaml';
import { ConfigError } from '../util/errors.js';
import { configSchema } from './schema.js';
import type { Config } from './types.js';

export const EX_CONFIG = 78;

const FORMAT_MESSAGES: Record<string, string> = {
  ip: 'must be an IPv4 or IPv6 address',
  'http-url': 'must be an http:// or https:// URL',
  'server-name': 'must be a Matrix server name (host or host:port)',
};

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
ajv.addFormat('ip', (s: string) => isIP(s) !== 0);
ajv.addFormat('http-url', (s: string) => {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
});
// A DNS name, IPv4 literal or [IPv6] literal, with an optional port (Matrix spec, "Server name").
ajv.addFormat('server-name', /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::\d{1,5})?$/);
const validate = ajv.compile<Config>(configSchema);

/** Deprecated or alternative spellings accepted for compatibility: [from, to]. */
const ALIASES: readonly (readonly [string, string])[] = [
  ['matrix.server_name', 'homeserver.server_name'],
  ['signalling.to_device_transport', 'to_device.transport'],
];

function pathOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (extra !== undefined) {
    parts.push(extra);
  }
  let out = 'config';
  for (const raw of parts) {
    const p = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(p) ? `[${p}]` : `.${p}`;
  }
  return out;
}

function describe(err: ErrorObject): string {
  switch (err.keyword) {
    case 'required':
      return `${pathOf(err.instancePath, String(err.params['missingProperty']))}: is required`;
    case 'additionalProperties':
      return `${pathOf(err.instancePath, String(err.params['additionalProperty']))}: unknown key`;
    case 'enum':
      return `${pathOf(err.instancePath)}: must be one of ${(err.params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'format':
      return `${pathOf(err.instancePath)}: ${FORMAT_MESSAGES[String(err.params['format'])] ?? err.message ?? 'invalid'}`;
    default:
      return `${pathOf(err.instancePath)}: ${err.message ?? 'invalid'}`;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Moves alias keys to their canonical place; both present with different values is an error. */
function applyAliases(raw: Record<string, unknown>, problems: string[]): void {
  for (const [from, to] of ALIASES) {
    const [fs, fk] = from.split('.') as [string, string];
    const [ts, tk] = to.split('.') as [string, string];
    const src = raw[fs];
    if (!isRecord(src) || !(fk in src)) {
      continue;
    }
    const value = src[fk];
    Reflect.deleteProperty(src, fk);
    if (Object.keys(src).length === 0 && fs !== 'matrix') {
      // Drop a section that existed only for the alias (e.g. `signalling`).
      Reflect.deleteProperty(raw, fs);
    }
    const dst = isRecord(raw[ts]) ? raw[ts] : {};
    raw[ts] = dst;
    if (tk in dst && dst[tk] !== value) {
      problems.push(`config.${from}: conflicts with config.${to}; set only ${to}`);
    }
    dst[tk] = value;
  }
}

function crossChecks(c: Config, problems: string[]): void {
  if (c.media.port_range.min > c.media.port_range.max) {
    problems.push('config.media.port_range.min: must be <= config.media.port_range.max');
  }
  if (c.keepalive.interval_s >= c.keepalive.timeout_s) {
    problems.push('config.keepalive.interval_s: must be < config.keepalive.timeout_s');
  }
}

/** Validates an already-parsed object (a copy is made); throws ConfigError listing every problem. */
export function validateConfig(input: unknown): Config {
  if (!isRecord(input)) {
    throw new ConfigError(['config: must be a YAML mapping (key: value pairs)']);
  }
  const raw = structuredClone(input);
  const problems: string[] = [];
  applyAliases(raw, problems);
  if (!validate(raw)) {
    for (const err of validate.errors ?? []) {
      problems.push(describe(err));
    }
    throw new ConfigError(problems);
  }
  crossChecks(raw, problems);
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return raw;
}

/** Parses YAML text; syntax errors become ConfigError lines with the line number. */
export function parseConfigText(text: string): Config {
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map(
        (e) =>
          `config: invalid YAML${e.linePos ? ` at line ${e.linePos[0].line}` : ''}: ${e.message.split('\n')[0] ?? ''}`,
      ),
    );
  }
  return validateConfig(doc.toJS() ?? {});
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([`config: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
  }
  return parseConfigText(text);
}
