/**
 * Any codec without a handler of its own: no keyframes (never a switch point), no rewrite, the first
 * subscriber codec of the same MIME type.
 */
import { sameMime, type CodecHandler } from './handler.js';

export const nullHandler: CodecHandler = {
  name: 'null',
  inspect(_buf, _offset, _length, facts) {
    facts.keyframe = false;
    facts.vp8 = undefined;
    facts.size = undefined;
    return true;
  },
  pick(publisher, subscriber) {
    return sameMime(publisher, subscriber)[0];
  },
  rewrite() {
    // nothing a subscriber's stream changes
  },
};
