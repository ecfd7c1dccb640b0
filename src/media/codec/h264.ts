/**
 * H.264 (RFC 6184): keyframe = an IDR slice or SPS (single NAL, STAP-A, first FU-A fragment); the payload is
 * never rewritten; a subscriber codec must have the same packetization mode (absent = 0), else the first
 * H.264 codec it offers.
 */
import { isH264Keyframe } from '../../rtp/h264.js';
import { fmtpValue, sameMime, type CodecHandler } from './handler.js';

const MODE = 'packetization-mode';

export const h264Handler: CodecHandler = {
  name: 'h264',
  inspect(buf, offset, length, facts) {
    facts.keyframe = isH264Keyframe(buf, offset, offset + length);
    facts.vp8 = undefined;
    facts.size = undefined;
    return true;
  },
  pick(publisher, subscriber) {
    const same = sameMime(publisher, subscriber);
    const mode = fmtpValue(publisher.parameters, MODE) ?? '0';
    return same.find((c) => (fmtpValue(c.parameters, MODE) ?? '0') === mode) ?? same[0];
  },
  rewrite() {
    // nothing a subscriber's stream changes
  },
};
