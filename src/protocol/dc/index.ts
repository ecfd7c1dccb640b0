/** The data-channel protocol layer (protocol.md §5, §6): one message model for both dialects. Pure. */
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
