/**
 * `/call/`: the web call page (callPage.ts), when `web.call_page` is on. `/call` redirects to it,
 * `/call/config.json` gives the page its defaults (the homeserver URL people use, this focus), and
 * `/call/assets/<path>` serves its compiled scripts. Off, none of these exist (404 like any unknown path).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CALL_CSP, callHtml, readCallAsset, type CallAssets } from '../callPage.js';

export interface CallPageOptions {
  readonly assets: CallAssets;
  /** The homeserver URL the page suggests (`web.homeserver_url`, else `homeserver.url`). */
  readonly homeserverUrl: string;
  readonly focus: { readonly user_id: string; readonly device_id: string };
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
}

export function callRoutes(app: FastifyInstance, opts: CallPageOptions): void {
  app.get('/call', async (_req, reply) => reply.redirect('call/', 302));
  app.get('/call/', async (_req, reply) =>
    secure(reply)
      .type('text/html; charset=utf-8')
      .header('content-security-policy', CALL_CSP)
      .header('x-frame-options', 'DENY')
      .header('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self)')
      .send(callHtml(opts.assets.built)),
  );
  app.get('/call/config.json', async (_req, reply) =>
    secure(reply).send({ homeserverUrl: opts.homeserverUrl, focus: opts.focus }),
  );
  app.get<{ Params: { '*': string } }>('/call/assets/*', async (req, reply) => {
    const body = await readCallAsset(opts.assets, req.params['*']);
    if (body === undefined) {
      return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    }
    return secure(reply).type('text/javascript; charset=utf-8').send(body);
  });
}
