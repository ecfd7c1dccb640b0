/** message_pagination.yaml GET /rooms/{roomId}/messages (see ../messages.ts). */
import type { ServerContext } from '../context.js';
import { forbidden } from '../errors.js';
import { buildMessages } from '../messages.js';
import type { Router } from '../routing.js';
import { roomIdParam } from './rooms.js';

export function messagesRoutes(router: Router, ctx: ServerContext): void {
  router.add({
    method: 'GET',
    url: '/_matrix/client/v3/rooms/:roomId/messages',
    auth: 'required',
    handler: ({ requester, params, query }) => {
      const roomId = roomIdParam(params.roomId);
      const room = ctx.state.rooms.get(roomId);
      if (room === undefined) {
        // As GET /state: an unknown room is one the user is not in.
        throw forbidden(`User ${requester!.userId} not in room ${roomId}, and room previews are disabled`);
      }
      return { body: buildMessages(room, requester!.userId, ctx.state.position, query) };
    },
  });
}
