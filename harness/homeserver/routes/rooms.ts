/**
 * Room membership endpoints: list_joined_rooms.yaml, create_room.yaml, joining.yaml (both join routes),
 * leaving.yaml, inviting.yaml, kicking.yaml, banning.yaml (ban and unban).
 */
import type { ServerContext } from '../context.js';
import { invalidParam } from '../errors.js';
import { isRoomAlias, isRoomId } from '../ids.js';
import type { Router } from '../routing.js';
import {
  validators,
  type CreateRoomBody,
  type JoinBody,
  type LeaveBody,
  type TargetBody,
} from '../schemas.js';

const V3 = '/_matrix/client/v3';

/** Path parameters declared with `pattern: "^!"` in the spec. */
export function roomIdParam(raw: string | undefined): string {
  if (raw === undefined || !isRoomId(raw)) {
    throw invalidParam(`${JSON.stringify(raw)} is not a legal room ID`);
  }
  return raw;
}

export function roomRoutes(router: Router, ctx: ServerContext): void {
  const { rooms } = ctx.state;

  router.add({
    method: 'GET',
    url: `${V3}/joined_rooms`,
    auth: 'required',
    handler: ({ requester }) => ({ body: { joined_rooms: rooms.joinedRooms(requester!.userId) } }),
  });

  router.add<CreateRoomBody>({
    method: 'POST',
    url: `${V3}/createRoom`,
    auth: 'required',
    body: validators.createRoom,
    handler: ({ requester, body }) => ({
      body: { room_id: rooms.createRoom(requester!.userId, body).roomId },
    }),
  });

  router.add<JoinBody>({
    method: 'POST',
    url: `${V3}/join/:roomIdOrAlias`,
    auth: 'required',
    body: validators.join,
    handler: ({ requester, params, body }) => {
      const target = params.roomIdOrAlias!;
      if (!isRoomId(target) && !isRoomAlias(target)) {
        throw invalidParam(`${JSON.stringify(target)} is not a legal room ID or alias`);
      }
      const room = rooms.resolve(target);
      const userId = requester!.userId;
      rooms.setMembership(userId, room.roomId, userId, 'join', reasonOf(body));
      return { body: { room_id: room.roomId } };
    },
  });

  router.add<JoinBody>({
    method: 'POST',
    url: `${V3}/rooms/:roomId/join`,
    auth: 'required',
    body: validators.join,
    handler: ({ requester, params, body }) => {
      const roomId = roomIdParam(params.roomId);
      const userId = requester!.userId;
      rooms.setMembership(userId, roomId, userId, 'join', reasonOf(body));
      return { body: { room_id: roomId } };
    },
  });

  router.add<LeaveBody>({
    method: 'POST',
    url: `${V3}/rooms/:roomId/leave`,
    auth: 'required',
    body: validators.leave,
    handler: ({ requester, params, body }) => {
      const userId = requester!.userId;
      rooms.setMembership(userId, roomIdParam(params.roomId), userId, 'leave', reasonOf(body));
      return { body: {} };
    },
  });

  for (const action of ['invite', 'kick', 'ban', 'unban'] as const) {
    router.add<TargetBody>({
      method: 'POST',
      url: `${V3}/rooms/:roomId/${action}`,
      auth: 'required',
      body: validators.target,
      handler: ({ requester, params, body }) => {
        rooms.act(action, requester!.userId, roomIdParam(params.roomId), body.user_id, body.reason);
        return { body: {} };
      },
    });
  }
}

function reasonOf(body: { reason?: string }): Record<string, unknown> {
  return body.reason === undefined ? {} : { reason: body.reason };
}
