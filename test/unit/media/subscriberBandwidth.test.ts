/**
 * SubscriberBandwidth with stand-in forwarded tracks (no peers): the estimate from REMB/loss caps the video
 * tracks evenly after audio, a held-back track gets a probe that pads it while the probe is active, closed
 * tracks are left out, and each new estimate is observed once.
 */
import t from 'tap';
import type { DownTrack } from '../../../src/media/downTrack.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { SubscriberBandwidth } from '../../../src/media/subscriberBandwidth.js';

interface Fake {
  kind: 'audio' | 'video';
  closed: boolean;
  rateBytesPerS: number;
  heldBack: number | undefined;
  caps: number[];
  probeBytes: number;
}

function fake(kind: 'audio' | 'video', rateBytesPerS: number, heldBack?: number): Fake {
  return { kind, closed: false, rateBytesPerS, heldBack, caps: [], probeBytes: 0 };
}

/** The DownTrack members SubscriberBandwidth uses, backed by a Fake. */
function asDownTrack(f: Fake): DownTrack {
  return {
    track: { kind: f.kind },
    get closed() {
      return f.closed;
    },
    get rateBytesPerS() {
      return f.rateBytesPerS;
    },
    setMaxBitrate: (bps: number) => {
      f.caps.push(bps);
    },
    heldBackLayerBitrate: () => f.heldBack,
    addProbeBytes: (bytes: number) => {
      f.probeBytes += bytes;
    },
  } as unknown as DownTrack;
}

t.test('no cap before congestion; then an even share after audio', async (t) => {
  const counters = new MediaCounters();
  const bw = new SubscriberBandwidth(counters, 100);
  const audio = fake('audio', 5000); // 40 kbit/s
  const v1 = fake('video', 100_000); // 800 kbit/s
  const v2 = fake('video', 50_000); // 400 kbit/s
  const closed = fake('video', 0);
  closed.closed = true;
  const tracks = [audio, v1, v2, closed].map(asDownTrack);
  bw.allocate(tracks, 0);
  t.strictSame(v1.caps, [Number.POSITIVE_INFINITY], 'no cap while the estimate is unknown');
  t.strictSame(closed.caps, [], 'closed tracks are left out');
  t.strictSame(audio.caps, [], 'audio is never capped');
  bw.onRemb(5_000_000, 0);
  bw.onRemb(1_040_000, 100); // under the 1.24 Mbit/s sent: congestion
  t.equal(bw.estimateBps, 1_040_000);
  bw.allocate(tracks, 200);
  t.equal(v1.caps.at(-1), 500_000, '(1,040 − 40 kbit/s) / 2');
  t.equal(v2.caps.at(-1), 500_000);
  bw.allocate(tracks, 300);
  t.strictSame(counters.estimates, [1_040_000], 'observed once per change');
});

t.test('a held-back track is probed, padded while the probe is active, then not', async (t) => {
  const counters = new MediaCounters();
  const bw = new SubscriberBandwidth(counters, 100);
  const v = fake('video', 50_000, 1_500_000); // sends 400 kbit/s, held below a 1.5 Mbit/s layer
  const tracks = [asDownTrack(v)];
  bw.onLoss(0.5, 0);
  t.equal(bw.estimateBps, Number.POSITIVE_INFINITY, 'no send rate known yet: loss alone sets no cap');
  bw.allocate(tracks, 0);
  bw.onLoss(0.5, 10); // congestion: 400 kbit/s × (1 − 0.5 / 2)
  t.equal(bw.estimateBps, 300_000);
  bw.allocate(tracks, 2000);
  t.equal(counters.probes, 0, 'held for 2 s after congestion');
  bw.allocate(tracks, 2010);
  t.equal(counters.probes, 1, 'probe started');
  t.equal(v.probeBytes, 0, 'padding starts with the next tick');
  bw.allocate(tracks, 2110);
  const target = 400_000 - 400_000 + 1_500_000 * 1.1;
  t.equal(v.probeBytes, ((target - 400_000) / 8) * 0.1, 'one tick of the gap to the target');
  bw.allocate(tracks, 2610);
  const padded = v.probeBytes;
  bw.allocate(tracks, 2700);
  t.equal(v.probeBytes, padded, 'no padding after the 600 ms padding phase');
  t.equal(counters.probes, 1, 'no second probe while one runs');
});
