/**
 * VP8 (RFC 7741): the payload descriptor is parsed once per packet for all subscribers, into one object per
 * track (a truncated one is malformed), a keyframe is S=1, PID=0, P=0, and its frame header carries the frame
 * size (layer ordering).
 * Per subscriber, the picture id and TL0PICIDX are rewritten in the subscriber's own copy of the packet
 * (media/sentPackets.ts; the publisher's bytes are shared and never written).
 */
import {
  blankVp8Descriptor,
  parseVp8DescriptorInto,
  vp8KeyframeSize,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
} from '../../rtp/vp8.js';
import { sameMime, type CodecHandler } from './handler.js';

export const vp8Handler: CodecHandler = {
  name: 'vp8',
  inspect(buf, offset, length, facts) {
    const end = offset + length;
    const d = (facts.vp8Scratch ??= blankVp8Descriptor()); // no object per packet
    facts.size = undefined;
    if (!parseVp8DescriptorInto(d, buf, offset, end)) {
      facts.vp8 = undefined;
      facts.keyframe = false;
      return false;
    }
    facts.vp8 = d;
    facts.keyframe = d.keyframe;
    if (d.keyframe) {
      facts.size = vp8KeyframeSize(buf.subarray(0, end), d, offset + d.length);
    }
    return true;
  },
  pick(publisher, subscriber) {
    return sameMime(publisher, subscriber)[0];
  },
  rewrite(buf, offset, facts, r) {
    const d = facts.vp8;
    if (d === undefined) {
      return;
    }
    if (r.pictureId !== undefined) {
      writeVp8PictureId(buf, d, r.pictureId, offset);
    }
    if (r.tl0PicIdx !== undefined) {
      writeVp8Tl0PicIdx(buf, d, r.tl0PicIdx, offset);
    }
  },
};
