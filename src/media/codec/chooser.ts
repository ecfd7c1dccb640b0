/**
 * Picks the codec handler for a negotiated codec by MIME type, once per payload type (when the track's codec
 * list is applied), never per packet.
 */
import type { CodecHandler } from './handler.js';
import { h264Handler } from './h264.js';
import { nullHandler } from './null.js';
import { opusHandler } from './opus.js';
import { vp8Handler } from './vp8.js';

const BY_MIME: ReadonlyMap<string, CodecHandler> = new Map([
  ['video/vp8', vp8Handler],
  ['video/h264', h264Handler],
  ['audio/opus', opusHandler],
]);

export function chooseCodecHandler(mimeType: string): CodecHandler {
  return BY_MIME.get(mimeType.toLowerCase()) ?? nullHandler;
}
