/** The data-channel protocol layer (protocol.md §5, §6, §8 links): one message model for both dialects. Pure. */
export * from './types.js';
export { parseDcFrame } from './parse.js';
export { serializeDc } from './serialize.js';
export {
  mergeMetadata,
  parseStreamMetadata,
  STREAM_PURPOSES,
  TRACK_KINDS,
  type MetadataOwner,
} from './metadata.js';
export { parseLinkFrame } from './linkParse.js';
export { serializeLinkFrame } from './linkSerialize.js';
export * from './linkTypes.js';
export { collisionError, relayedCollisions, unstableTrunkSsrcs } from './linkChecks.js';
export { type DcChannel } from './check.js';
