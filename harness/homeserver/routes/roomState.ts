/**
 * Room state and events: rooms.yaml (GET /state, GET /state/{eventType}/{stateKey} with `format`),
 * room_state.yaml (PUT /state/{eventType}/{stateKey}; the state key may be empty, trailing slash optional),
 * room_send.yaml (PUT /send/{eventType}/{txnId}, idempotent per requester and path; MSC4354 sticky_duration_ms).
 */
import type { ServerContext } from '../context.js';
import { forbidden, invalidParam, notFound } from '../errors.js';
import { queryParam } from '../auth.js';
import type { RouteContext, Router } from '../routing.js';
import { validators } from '../schemas.js';
import { withoutRoomId } from '../sync.js';
import type { ClientEvent } from '../types.js';
import { stickyFromQuery } from '../sticky.js';
import { roomIdParam } from './rooms.js';

const ROOM = '/_matrix/client/v3/rooms/:roomId';

export function roomStateRoutes(router: Router, ctx: ServerContext): void {
  const { state } = ctx;
  const { rooms } = state;

  const present = (e: ClientEvent): unknown =>
    ctx.options.stateEventsIncludeRoomId ? structuredClone(e) : withoutRoomId(e);

  const visibleState = (userId: string, roomIdRaw: string | undefined): ClientEvent[] => {
    const roomId = roomIdParam(roomIdRaw);
    const visible = rooms.get(roomId)?.visibleState(userId);
    if (visible === undefined) {
      throw forbidden(`User ${userId} not in room ${roomId}, and room previews are disabled`);
    }
    return visible.map((s) => s.event);
  };

  router.add({
    method: 'GET',
    url: `${ROOM}/state`,
    auth: 'required',
    handler: ({ requester, params }) => ({
      body: visibleState(requester!.userId, params.roomId).map(present),
    }),
  });

  const getOne = ({ requester, params, query }: RouteContext<undefined>): { body: unknown } => {
    const format = queryParam(query, 'format') ?? 'content';
    if (format !== 'content' && format !== 'event') {
      throw invalidParam(`Invalid format ${JSON.stringify(format)}`);
    }
    const stateKey = params.stateKey ?? '';
    const event = visibleState(requester!.userId, params.roomId).find(
      (e) => e.type === params.eventType && e.state_key === stateKey,
    );
    if (event === undefined) {
      throw notFound('Event not found.');
    }
    return { body: format === 'event' ? structuredClone(event) : structuredClone(event.content) };
  };

  const putOne = ({ requester, params, body }: RouteContext<Record<string, unknown>>): { body: unknown } => {
    const event = rooms.sendState(
      requester!.userId,
      roomIdParam(params.roomId),
      params.eventType!,
      params.stateKey ?? '',
      body,
    );
    return { body: { event_id: event.event_id } };
  };

  for (const suffix of ['/state/:eventType', '/state/:eventType/', '/state/:eventType/:stateKey']) {
    router.add({ method: 'GET', url: `${ROOM}${suffix}`, auth: 'required', handler: getOne });
    router.add({
      method: 'PUT',
      url: `${ROOM}${suffix}`,
      auth: 'required',
      body: validators.eventContent,
      handler: putOne,
    });
  }

  router.add({
    method: 'PUT',
    url: `${ROOM}/send/:eventType/:txnId`,
    auth: 'required',
    body: validators.eventContent,
    handler: ({ requester, params, body, record, query }) => {
      const r = requester!;
      const key = `send|${r.userId}|${r.deviceId ?? `as:${r.appservice?.id ?? ''}`}|${record.rawPath}`;
      const cached = ctx.txns.get(key);
      if (cached !== undefined) {
        return { body: cached };
      }
      const sticky = stickyFromQuery(query);
      const event = rooms.sendMessage(r.userId, roomIdParam(params.roomId), params.eventType!, body, sticky);
      const result = { event_id: event.event_id };
      ctx.txns.set(key, result);
      return { body: result };
    },
  });
}
