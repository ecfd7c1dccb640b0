import t from 'tap';
import { RTCRtpHeaderExtensionParameters } from 'werift';
import { alignExtensionIds } from '../../../src/media/extensionIds.js';

const MID = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const RID = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const ABS = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
const LEVEL = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const ext = (id: number, uri: string) => new RTCRtpHeaderExtensionParameters({ id, uri });
const config = {
  audio: [ext(1, MID), ext(2, ABS), ext(3, LEVEL)],
  video: [ext(4, MID), ext(5, RID), ext(6, ABS)],
};
const ids = (tr: { headerExtensions: RTCRtpHeaderExtensionParameters[] }) =>
  tr.headerExtensions.map((e) => [e.id, e.uri]);

t.test(
  "new transceivers take the ids the browser's offer chose for the same URIs, free ids for the rest",
  async (t) => {
    // Chrome's offer: audio-level 1, abs-send-time 2, mid 4, toffset 5 (no rid: its video was not simulcast).
    const browserAudio = { kind: 'audio', headerExtensions: [ext(1, LEVEL), ext(2, ABS), ext(4, MID)] };
    const browserVideo = {
      kind: 'video',
      headerExtensions: [ext(2, ABS), ext(4, MID), ext(5, 'urn:x:toffset')],
    };
    const fwdAudio = { kind: 'audio', headerExtensions: [] as RTCRtpHeaderExtensionParameters[] };
    const fwdVideo = { kind: 'video', headerExtensions: [] as RTCRtpHeaderExtensionParameters[] };
    alignExtensionIds([browserAudio, browserVideo, fwdAudio, fwdVideo], config);
    t.same(ids(fwdAudio), [
      [4, MID],
      [2, ABS],
      [1, LEVEL],
    ]);
    t.same(
      ids(fwdVideo),
      [
        [4, MID],
        [3, RID],
        [2, ABS],
      ],
      'rid gets the first free id',
    );
    t.same(
      ids(browserAudio),
      [
        [1, LEVEL],
        [2, ABS],
        [4, MID],
      ],
      'negotiated transceivers are left alone',
    );
    t.not(config.video[1]!.id, 3, 'the config objects are not changed');
  },
);

t.test(
  'nothing negotiated yet: werift numbers them itself; no id left: the extension is not offered',
  async (t) => {
    const fresh = { kind: 'video', headerExtensions: [] as RTCRtpHeaderExtensionParameters[] };
    alignExtensionIds([fresh], config);
    t.same(fresh.headerExtensions, []);
    const full = {
      kind: 'audio',
      headerExtensions: Array.from({ length: 14 }, (_, i) => ext(i + 1, `urn:x:${i}`)),
    };
    const add = { kind: 'audio', headerExtensions: [] as RTCRtpHeaderExtensionParameters[] };
    alignExtensionIds([full, add], config);
    t.same(add.headerExtensions, []);
  },
);
