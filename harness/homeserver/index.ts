/** The strict in-repo test homeserver (see server.ts). */
export { startTestHomeserver, TestHomeserver } from './server.js';
export { MatrixError } from './errors.js';
export { CALL_ROOM_POWER_LEVELS } from './powerLevels.js';
export type { CreateRoomBody } from './schemas.js';
export type * from './types.js';
