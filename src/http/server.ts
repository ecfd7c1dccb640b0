/**
 * Builds the Fastify instance(s): the appservice API and the operations routes share one listener when
 * their bind address and port are equal, else each gets its own. Nothing listens until `listen()`.
 */
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import type { Logger } from 'pino';
import { appserviceRoutes, matrixError, type AppserviceRoutesOptions } from '../appservice/routes.js';
import { scrubUrl } from '../observability/logger.js';
import { opsRoutes, type OpsRoutesOptions } from './routes/ops.js';

export interface Listener {
  bind: string;
  port: number;
}

export interface HttpServersOptions {
  appservice: AppserviceRoutesOptions & Listener;
  ops: OpsRoutesOptions & Listener;
  log: Logger;
}

export interface HttpServers {
  /** One or two instances, each with its listener. */
  instances: { app: FastifyInstance; listener: Listener; serves: ('appservice' | 'ops')[] }[];
  listen(): Promise<string[]>;
  close(): Promise<void>;
}

/** The longest path segment routed (a transaction id, a URL-encoded Matrix id). */
export const MAX_PARAM_LENGTH = 2048;

function createInstance(log: Logger): FastifyInstance {
  const app = Fastify({
    // pino's Logger and Fastify's FastifyBaseLogger differ only in generics; tsc needs the cast.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Transactions enforce their own, larger limit in their content parser.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Matrix ids and aliases may be up to 255 bytes (URL-encoded: more); Fastify's default is 100.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // The router's own refusals (a path segment over the limit, a malformed URL) as Matrix errors.
    frameworkErrors: (err, _req, r) => {
      const reply = r as FastifyReply;
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void reply.code(414).send({
          errcode: 'M_TOO_LARGE',
          error: `Request URI too long: a path segment is over ${MAX_PARAM_LENGTH} characters`,
        });
        return;
      }
      void matrixError(reply, 'M_UNRECOGNIZED', 'Unrecognized request');
    },
  });
  app.addHook('onResponse', async (req, reply) => {
    log.debug(
      {
        method: req.method,
        url: scrubUrl(req.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'http request',
    );
  });
  app.setNotFoundHandler(async (_req, reply) => matrixError(reply, 'M_UNRECOGNIZED', 'Unrecognized request'));
  // Errors outside the route scopes' own handlers — e.g. a request for no route whose JSON body Fastify's root
  // parser refused before the not-found handler ran (found by the transactions fuzz) — as Matrix errors too.
  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    const routed = req.routeOptions.url !== undefined;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return matrixError(reply, 'M_TOO_LARGE', 'Request body too large');
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return routed
        ? matrixError(reply, 'M_NOT_JSON', 'Body is not a JSON object')
        : matrixError(reply, 'M_UNRECOGNIZED', 'Unrecognized request');
    }
    log.error({ err, url: scrubUrl(req.url) }, 'http request failed');
    return matrixError(reply, 'M_UNKNOWN', 'Internal error');
  });
  return app;
}

export function buildHttpServers(opts: HttpServersOptions): HttpServers {
  const log = opts.log;
  const shared = opts.appservice.bind === opts.ops.bind && opts.appservice.port === opts.ops.port;
  const instances: HttpServers['instances'] = [];
  const asApp = createInstance(log);
  void asApp.register((scope, _o, done) => {
    appserviceRoutes(scope, opts.appservice);
    done();
  });
  if (shared) {
    void asApp.register((scope, _o, done) => {
      opsRoutes(scope, opts.ops);
      done();
    });
    instances.push({ app: asApp, listener: opts.appservice, serves: ['appservice', 'ops'] });
  } else {
    const opsApp = createInstance(log);
    void opsApp.register((scope, _o, done) => {
      opsRoutes(scope, opts.ops);
      done();
    });
    instances.push({ app: asApp, listener: opts.appservice, serves: ['appservice'] });
    instances.push({ app: opsApp, listener: opts.ops, serves: ['ops'] });
  }
  return {
    instances,
    async listen() {
      const addrs: string[] = [];
      for (const i of instances) {
        addrs.push(await i.app.listen({ host: i.listener.bind, port: i.listener.port }));
      }
      return addrs;
    },
    async close() {
      await Promise.all(instances.map((i) => i.app.close()));
    },
  };
}
