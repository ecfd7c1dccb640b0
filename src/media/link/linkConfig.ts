/**
 * werift configuration of a link's peer connection (protocol.md §8.2): the SFU's own (media/peerConfig.ts:
 * ports, bind address, no STUN, the SFU's codecs with nack / pli / fir / goog-remb), always BUNDLE, and only
 * the header extensions a link uses — abs-send-time on both carriers and the audio level (RFC 6464) on the
 * audio one; no MID, RID or repaired RID (trunk SSRCs are announced in link metadata instead). Fresh objects
 * per connection (werift mutates them). Also the sanity check of a remote link offer.
 */
import { useAbsSendTime, useAudioLevelIndication, type PeerConfig } from 'werift';
import type { MediaConfig } from '../../config/types.js';
import { mediaSections, offerProblem } from '../../protocol/sdp.js';
import { peerConfig } from '../peerConfig.js';

export function linkPeerConfig(media: MediaConfig): Partial<PeerConfig> {
  return {
    ...peerConfig(media, true),
    headerExtensions: {
      audio: [useAbsSendTime(), useAudioLevelIndication()],
      video: [useAbsSendTime()],
    },
  };
}

/** Why a remote link offer cannot be applied (undefined: it can): the client checks plus the two carriers. */
export function linkOfferProblem(sdp: string, currentMLines: number): string | undefined {
  const problem = offerProblem(sdp, currentMLines);
  if (problem !== undefined) {
    return problem;
  }
  const kinds = mediaSections(sdp).map((s) => /^m=(\w+)/.exec(s.lines[0] ?? '')?.[1]);
  const count = (k: string) => kinds.filter((x) => x === k).length;
  if (count('audio') !== 1 || count('video') !== 1) {
    return 'a link offer has exactly one audio and one video carrier m-line';
  }
  return undefined;
}
