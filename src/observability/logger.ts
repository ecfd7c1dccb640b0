/**
 * The one pino logger. Components take child loggers (`log.child({component: 'appservice'})`).
 * Secrets never reach the output: tokens and passwords by path, ICE passwords inside SDP by a formatter,
 * access_token query parameters in URLs by scrubUrl.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config/types.js';

export type { Logger };

const REDACT_PATHS = [
  'as_token',
  'hs_token',
  'access_token',
  'password',
  'authorization',
  '*.as_token',
  '*.hs_token',
  '*.access_token',
  '*.password',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
];

const ICE_PWD = /(a=ice-pwd:)[^\r\n]*/g;
const TOKEN_PARAM = /([?&]access_token=)[^&#]*/g;

export function scrubSdp(s: string): string {
  return s.replace(ICE_PWD, '$1[redacted]');
}

export function scrubUrl(url: string): string {
  return url.replace(TOKEN_PARAM, '$1[redacted]');
}

/** Replaces ICE passwords in every string of a log object (bounded depth). */
function scrubDeep(v: unknown, depth: number): unknown {
  if (typeof v === 'string') {
    return v.includes('a=ice-pwd:') ? scrubSdp(v) : v;
  }
  if (depth <= 0 || typeof v !== 'object' || v === null) {
    return v;
  }
  if (Array.isArray(v)) {
    return v.map((x) => scrubDeep(x, depth - 1));
  }
  if (v instanceof Error) {
    return v;
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] = scrubDeep(x, depth - 1);
  }
  return out;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const opts = {
    level,
    base: { name: 'matrix-sfu' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    formatters: {
      log: (obj: Record<string, unknown>) => scrubDeep(obj, 6) as Record<string, unknown>,
    },
  };
  return destination ? pino(opts, destination) : pino(opts);
}
