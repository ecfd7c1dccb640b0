/**
 * The Application Service API routes (protocol.md §2.3) as a Fastify plugin: hs_token auth on every
 * route (Bearer header or legacy access_token query; both present must agree), our own JSON body parsing
 * (so every failure maps to a Matrix errcode), transactions, ping and the user/alias queries,
 * under /_matrix/app/v1 and the legacy unprefixed paths.
 */
import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ProtocolError } from '../util/errors.js';
import { isRecord } from './events.js';
import type { TransactionProcessor } from './transactions.js';

export interface AppserviceRoutesOptions {
  hsToken: string;
  focusUserId: string;
  maxTransactionBytes: number;
  transactions: TransactionProcessor;
  log: Logger;
}

const MATRIX_ERRORS: Record<string, number> = {
  M_MISSING_TOKEN: 401,
  M_FORBIDDEN: 403,
  M_NOT_JSON: 400,
  M_BAD_JSON: 400,
  M_NOT_FOUND: 404,
  M_TOO_LARGE: 413,
  M_UNRECOGNIZED: 404,
  M_UNKNOWN: 500,
};

export function matrixError(reply: FastifyReply, errcode: string, error: string): FastifyReply {
  return reply.code(MATRIX_ERRORS[errcode] ?? 400).send({ errcode, error });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant-time comparison (lengths are hidden by hashing first). */
export function tokenEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') {
    return undefined;
  }
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? '';
}

function queryToken(req: FastifyRequest): string | undefined {
  const q = req.query as Record<string, unknown> | undefined;
  const v = q?.['access_token'];
  return typeof v === 'string' ? v : Array.isArray(v) ? String(v[0]) : undefined;
}

/** Strict UTF-8 JSON decoding of a raw body; undefined body = no body. */
function decodeJson(body: unknown): unknown {
  if (body === undefined || body === null) {
    throw new ProtocolError('M_NOT_JSON', 'Body is not a JSON object');
  }
  if (!Buffer.isBuffer(body)) {
    throw new ProtocolError('M_NOT_JSON', 'Body is not a JSON object');
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as unknown;
  } catch {
    throw new ProtocolError('M_NOT_JSON', 'Body is not a JSON object');
  }
}

export function appserviceRoutes(app: FastifyInstance, opts: AppserviceRoutesOptions): void {
  const { log } = opts;
  const reject = (req: FastifyRequest, reply: FastifyReply, errcode: string, error: string) => {
    log.warn(
      { method: req.method, route: req.routeOptions.url, errcode },
      `appservice request rejected: ${error}`,
    );
    return matrixError(reply, errcode, error);
  };

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: opts.maxTransactionBytes },
    (_req, body, done) => {
      done(null, body);
    },
  );

  app.addHook('onRequest', async (req, reply) => {
    const header = bearer(req);
    const query = queryToken(req);
    if (header === undefined && query === undefined) {
      return reject(req, reply, 'M_MISSING_TOKEN', 'Missing hs_token');
    }
    const tokens = [header, query].filter((t): t is string => t !== undefined);
    if (!tokens.every((t) => tokenEquals(t, opts.hsToken))) {
      return reject(req, reply, 'M_FORBIDDEN', 'Invalid hs_token');
    }
    return undefined;
  });

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err instanceof ProtocolError) {
      return reject(req, reply, err.errcode, err.message);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reject(req, reply, 'M_TOO_LARGE', 'Transaction too large');
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reject(req, reply, 'M_NOT_JSON', 'Body is not a JSON object');
    }
    log.error({ err, route: req.routeOptions.url }, 'appservice route failed');
    return matrixError(reply, 'M_UNKNOWN', 'Internal error');
  });

  const transaction = async (req: FastifyRequest<{ Params: { txnId: string } }>) => {
    const body = decodeJson(req.body);
    const result = opts.transactions.receive(req.params.txnId, body);
    log.debug({ txnId: req.params.txnId, result }, 'transaction');
    return {};
  };
  const user = async (req: FastifyRequest<{ Params: { userId: string } }>, reply: FastifyReply) => {
    if (req.params.userId === opts.focusUserId) {
      return {};
    }
    return matrixError(reply, 'M_NOT_FOUND', 'No such user');
  };
  const alias = async (_req: FastifyRequest, reply: FastifyReply) =>
    matrixError(reply, 'M_NOT_FOUND', 'No such room alias');

  for (const prefix of ['/_matrix/app/v1', '']) {
    app.put(`${prefix}/transactions/:txnId`, transaction);
    app.get(`${prefix}/users/:userId`, user);
    app.get(`${prefix}/rooms/:roomAlias`, alias);
  }
  app.post('/_matrix/app/v1/ping', async (req) => {
    // An empty body is treated as {}; anything else must be an object with an optional string transaction_id.
    const body =
      req.body === undefined || (Buffer.isBuffer(req.body) && req.body.length === 0)
        ? {}
        : decodeJson(req.body);
    if (!isRecord(body)) {
      throw new ProtocolError('M_NOT_JSON', 'Body is not a JSON object');
    }
    if (body['transaction_id'] !== undefined && typeof body['transaction_id'] !== 'string') {
      throw new ProtocolError('M_BAD_JSON', 'transaction_id must be a string');
    }
    log.info({ transaction_id: body['transaction_id'] }, 'ping from homeserver');
    return {};
  });
}
