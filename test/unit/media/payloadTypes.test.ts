/**
 * media/payloadTypes.ts: the payload type a receiver's codec list gives each publisher codec — the handler's
 * pick, made once per (list, codec); the codec asked last answered again, another codec from the map; a new list
 * picks again; a codec the list cannot carry is undefined, remembered as such.
 */
import t from 'tap';
import { chooseCodecHandler } from '../../../src/media/codec/chooser.js';
import type { CodecHandler, NegotiatedCodec } from '../../../src/media/codec/handler.js';
import { PayloadTypes } from '../../../src/media/payloadTypes.js';
import type { TrackCodec } from '../../../src/media/track.js';

/** A publisher codec whose handler is the real one for its MIME type, with its picks counted. */
function codec(mimeType: string, payloadType: number, picks: { n: number }): TrackCodec {
  const real = chooseCodecHandler(mimeType);
  const handler: CodecHandler = {
    ...real,
    pick: (publisher, subscriber) => {
      picks.n++;
      return real.pick(publisher, subscriber);
    },
  };
  return { payloadType, mimeType, clockRate: mimeType.startsWith('audio') ? 48000 : 90000, handler };
}

const LIST_A: readonly NegotiatedCodec[] = [
  { payloadType: 96, mimeType: 'video/VP8' },
  { payloadType: 111, mimeType: 'audio/opus' },
];
const LIST_B: readonly NegotiatedCodec[] = [
  { payloadType: 100, mimeType: 'video/VP8' },
  { payloadType: 109, mimeType: 'audio/opus' },
];

t.test('picked once per list and codec, whatever the order of the asks', async (t) => {
  const picks = { n: 0 };
  const vp8 = codec('video/VP8', 120, picks);
  const opus = codec('audio/opus', 121, picks);
  const pts = new PayloadTypes();
  const seen: (number | undefined)[] = [];
  for (const c of [vp8, vp8, opus, vp8, opus, opus, vp8]) {
    seen.push(pts.of(c, LIST_A));
  }
  t.same(seen, [96, 96, 111, 96, 111, 111, 96], 'each codec its own payload type, alternating or not');
  t.equal(picks.n, 2, 'the handler picked once for each codec');
});

t.test('another list (a renegotiation) picks again, and its answers replace the old ones', async (t) => {
  const picks = { n: 0 };
  const vp8 = codec('video/VP8', 120, picks);
  const pts = new PayloadTypes();
  t.equal(pts.of(vp8, LIST_A), 96);
  t.equal(pts.of(vp8, LIST_B), 100, 'the new list: its payload type, not the one asked last');
  t.equal(pts.of(vp8, LIST_B), 100);
  t.equal(picks.n, 2);
  t.equal(pts.of(vp8, [...LIST_A]), 96, 'a list equal in content but another array: picked again');
  t.equal(picks.n, 3);
});

t.test('a codec the list cannot carry: undefined, and not picked again', async (t) => {
  const picks = { n: 0 };
  const h264 = codec('video/H264', 102, picks);
  const vp8 = codec('video/VP8', 120, picks);
  const pts = new PayloadTypes();
  t.equal(pts.of(h264, LIST_A), undefined, 'no H.264 in the list');
  t.equal(pts.of(vp8, LIST_A), 96);
  t.equal(pts.of(h264, LIST_A), undefined, 'from the map now');
  t.equal(pts.of(h264, LIST_A), undefined, 'the codec asked last');
  t.equal(picks.n, 2, 'the refusal was remembered');
  t.equal(pts.of(h264, [{ payloadType: 35, mimeType: 'video/H264' }]), 35, 'a list that carries it');
});
