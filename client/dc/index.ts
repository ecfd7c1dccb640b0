/** The signalling data channel, both dialects (protocol.md §5). */
export { readFocusFrame } from './read.js';
export { ALIVE_INTERVAL_MS, DcSession, type DcSessionOptions } from './session.js';
export * from './types.js';
export * from './write.js';
export { readLinkFrame, type LinkReadOptions } from './linkRead.js';
export * from './linkTypes.js';
export * from './linkWrite.js';
