/**
 * Opus (RFC 7587): every packet decodes on its own, so there are no keyframes and nothing in the payload is
 * rewritten (audio is forwarded unchanged apart from the RTP header, protocol.md §7).
 */
import { sameMime, type CodecHandler } from './handler.js';

export const opusHandler: CodecHandler = {
  name: 'opus',
  inspect(_buf, _offset, _length, facts) {
    facts.keyframe = false;
    facts.vp8 = undefined;
    facts.size = undefined;
    return true;
  },
  pick(publisher, subscriber) {
    return sameMime(publisher, subscriber)[0];
  },
  rewrite(payload) {
    return payload;
  },
};
