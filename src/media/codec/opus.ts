/**
 * Opus (RFC 7587): every packet decodes on its own, so there are no keyframes and nothing in the payload is
 * rewritten (audio is forwarded unchanged apart from the RTP header, protocol.md §7): the null handler's
 * behaviour under its own name.
 */
import type { CodecHandler } from './handler.js';
import { nullHandler } from './null.js';

export const opusHandler: CodecHandler = { ...nullHandler, name: 'opus' };
