/**
 * The strict HTTP front of the test homeserver: request log, fault injection, body parsing (any content type,
 * like Synapse: not JSON → 400 M_NOT_JSON, not an object → 400 M_BAD_JSON), authentication, schema checks,
 * 404/405 M_UNRECOGNIZED, and Matrix-shaped errors. Routes are declared with `Router.add`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ValidateFunction } from 'ajv';
import { authenticate, extractToken, type Query, type Requester } from './auth.js';
import { MatrixError, violation } from './errors.js';
import type { Faults } from './faults.js';
import { check } from './schemas.js';
import type { HomeserverState } from './state.js';
import type { RejectionRecord, RequestRecord } from './types.js';

export interface RouteContext<B> {
  params: Record<string, string>;
  query: Query;
  body: B;
  /** Present when the route requires auth. */
  requester: Requester | undefined;
  /** The presented token (`auth: 'optional'` routes inspect it themselves). */
  token: string | undefined;
  record: RequestRecord;
}

export interface RouteResult {
  status?: number;
  body: unknown;
}

export interface RouteDef<B> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** `required`: access token resolved before anything else; `optional`: the handler decides; `none`: ignored. */
  auth: 'required' | 'optional' | 'none';
  /** When set, the request must carry a JSON object body matching this schema. */
  body?: ValidateFunction<B>;
  handler(ctx: RouteContext<B>): RouteResult | Promise<RouteResult>;
}

export interface RouterLogs {
  requests: RequestRecord[];
  rejections: RejectionRecord[];
}

/** The CORS headers the Client-Server API ("Web browser clients") tells servers to send on every response. */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'access-control-allow-headers': 'X-Requested-With, Content-Type, Authorization',
} as const;
const CORS_ALLOWED_HEADERS = ['x-requested-with', 'content-type', 'authorization'];

const records = new WeakMap<FastifyRequest, RequestRecord>();

function splitUrl(url: string): { rawPath: string; path: string } {
  const rawPath = url.split('?', 1)[0] ?? url;
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // keep the raw path
  }
  return { rawPath, path };
}

/** Records who a request acted as. */
export function noteRequester(record: RequestRecord, requester: Requester): void {
  record.userId = requester.userId;
  if (requester.deviceId !== undefined) {
    record.deviceId = requester.deviceId;
  }
  if (requester.appservice !== undefined) {
    record.appserviceId = requester.appservice.id;
  }
}

/** Synapse's parse_json_object_from_request. */
export function parseJsonObject(raw: unknown): Record<string, unknown> {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw violation(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw violation(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

function tryParse(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw) || raw.length === 0) {
    return undefined;
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

export class Router {
  readonly #app: FastifyInstance;
  readonly #state: HomeserverState;
  readonly #logs: RouterLogs;
  readonly #patterns: { method: string; regex: RegExp }[] = [];
  readonly #tagged: boolean;

  /** `tagged`: records carry `serverName` (set when the homeserver serves more than one server name). */
  constructor(
    app: FastifyInstance,
    state: HomeserverState,
    faults: Faults,
    logs: RouterLogs,
    tagged = false,
  ) {
    this.#app = app;
    this.#state = state;
    this.#logs = logs;
    this.#tagged = tagged;

    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, body);
    });

    app.addHook('onRequest', async (req, reply) => {
      const { rawPath, path } = splitUrl(req.url);
      if (req.method === 'OPTIONS') {
        return this.#preflight(req, reply, path, rawPath);
      }
      const record: RequestRecord = {
        method: req.method,
        path,
        rawPath,
        query: { ...(req.query as Query) },
        body: undefined,
        at: Date.now(),
      };
      if (tagged) {
        record.serverName = state.serverName;
      }
      records.set(req, record);
      logs.requests.push(record);
      const injected = faults.take(req.method, path, rawPath, state.serverName);
      if (injected !== undefined) {
        record.injected = true;
        await reply.code(injected.status).send(injected.body);
        return reply;
      }
      return undefined;
    });
    app.addHook('onSend', async (req, reply, payload) => {
      for (const [name, value] of Object.entries(CORS_HEADERS)) {
        void reply.header(name, value);
      }
      const record = records.get(req);
      if (record !== undefined) {
        record.status = reply.statusCode;
      }
      return payload;
    });

    app.setNotFoundHandler(async (req, reply) => {
      const record = records.get(req);
      if (record !== undefined) {
        record.body = tryParse(req.body);
      }
      const rawPath = splitUrl(req.url).rawPath;
      const allowed = this.#patterns.some((p) => p.method !== req.method && p.regex.test(rawPath));
      const err = allowed
        ? violation(405, 'M_UNRECOGNIZED', `Unrecognized request: method ${req.method} not allowed here`)
        : violation(404, 'M_UNRECOGNIZED', 'Unrecognized request');
      return this.#sendError(req, reply, err);
    });

    app.setErrorHandler(async (error, req, reply) => this.#sendError(req, reply, error));
  }

  /**
   * Client-Server API "Web browser clients": every endpoint answers OPTIONS with the CORS headers and nothing
   * else. Strict: a preflight for a path that is no endpoint, for a method the endpoint does not have, or asking
   * for a request header the spec's `Access-Control-Allow-Headers` does not list, is refused (and recorded), so
   * the browser's request fails as it would against a server that does not allow it.
   */
  async #preflight(
    req: FastifyRequest,
    reply: FastifyReply,
    path: string,
    rawPath: string,
  ): Promise<FastifyReply> {
    const record: RequestRecord = {
      method: 'OPTIONS',
      path,
      rawPath,
      query: { ...(req.query as Query) },
      body: undefined,
      at: Date.now(),
    };
    if (this.#tagged) {
      record.serverName = this.#state.serverName;
    }
    records.set(req, record);
    this.#logs.requests.push(record);
    const methods = this.#patterns.filter((p) => p.regex.test(rawPath)).map((p) => p.method);
    if (methods.length === 0) {
      return this.#sendError(req, reply, violation(404, 'M_UNRECOGNIZED', 'Unrecognized request'));
    }
    const asked = req.headers['access-control-request-method'];
    if (typeof asked === 'string' && !methods.includes(asked.toUpperCase())) {
      return this.#sendError(
        req,
        reply,
        violation(405, 'M_UNRECOGNIZED', `CORS preflight for method ${asked}, which ${path} does not have`),
      );
    }
    const headers = req.headers['access-control-request-headers'];
    const extra = (typeof headers === 'string' ? headers.split(',') : [])
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== '' && !CORS_ALLOWED_HEADERS.includes(h));
    if (extra.length > 0) {
      return this.#sendError(
        req,
        reply,
        violation(
          400,
          'M_UNRECOGNIZED',
          `CORS preflight asks for request headers ${extra.join(', ')}: Matrix servers allow only ${CORS_HEADERS['access-control-allow-headers']}`,
        ),
      );
    }
    return reply.code(204).send();
  }

  add<B>(def: RouteDef<B>): void {
    const source = def.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+');
    this.#patterns.push({ method: def.method, regex: new RegExp(`^${source}$`) });
    this.#app.route({
      method: def.method,
      url: def.url,
      handler: async (req, reply) => {
        const record = records.get(req)!;
        record.body = tryParse(req.body);
        const query = req.query as Query;
        const headers = req.headers as Record<string, unknown>;
        const token = def.auth === 'none' ? undefined : extractToken(headers, query);
        let requester: Requester | undefined;
        if (def.auth === 'required') {
          requester = authenticate(this.#state, token, query);
          noteRequester(record, requester);
        }
        const body = def.body === undefined ? (undefined as B) : check(def.body, parseJsonObject(req.body));
        const result = await def.handler({
          params: req.params as Record<string, string>,
          query,
          body,
          requester,
          token,
          record,
        });
        return reply.code(result.status ?? 200).send(result.body);
      },
    });
  }

  async #sendError(req: FastifyRequest, reply: FastifyReply, error: unknown): Promise<FastifyReply> {
    const err = toMatrixError(error);
    if (err.violation) {
      const { path } = splitUrl(req.url);
      this.#logs.rejections.push({
        method: req.method,
        path,
        status: err.status,
        errcode: err.errcode,
        why: err.message,
        ...(this.#tagged ? { serverName: this.#state.serverName } : {}),
      });
    }
    return reply.code(err.status).send(err.toJSON());
  }
}

function toMatrixError(error: unknown): MatrixError {
  if (error instanceof MatrixError) {
    return error;
  }
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode === 413) {
    return violation(413, 'M_TOO_LARGE', 'Request body too large');
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    return violation(e.statusCode, 'M_UNRECOGNIZED', e.message ?? 'Bad request');
  }
  console.error('test homeserver: internal error', error);
  return new MatrixError(500, 'M_UNKNOWN', `Internal server error: ${e.message ?? String(error)}`);
}
