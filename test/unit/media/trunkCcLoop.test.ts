/**
 * Both halves of trunk congestion control in one closed loop on the simulated trunk (test/helpers/trunkCcSim.ts):
 * the sending focus's TrunkSendCc chooses layers from the REMB and RR blocks the receiving focus's
 * TrunkReceiveCc writes, the streams are paced at the chosen layers' bitrates, the trunk is a 1.5 Mbit/s FIFO.
 * 3 Mbit/s demanded (Opus + q/h/f):
 * - within 5 s the send rate is under the cap and stays there, f is paused and announced once, q and h kept;
 * - audio: every packet delivered (no queue drop, no pause);
 * - no layer flaps afterwards (one announcement in 30 s).
 */
import t from 'tap';
import type { TrunkTrackDemand } from '../../../src/forwarding/trunkAllocation.js';
import { TrunkSendCc } from '../../../src/media/link/trunkCcSend.js';
import { simulateTrunkCc, type SimStream } from '../../helpers/trunkCcSim.js';

const AUDIO: SimStream = { ssrc: 4101, clockRate: 48_000, packetBytes: 120 };
const Q: SimStream = { ssrc: 4111, clockRate: 90_000, packetBytes: 1000 };
const H: SimStream = { ssrc: 4112, clockRate: 90_000, packetBytes: 1100 };
const F: SimStream = { ssrc: 4113, clockRate: 90_000, packetBytes: 1200 };
const rates: Record<string, number> = { q: 150_000, h: 500_000, f: 2_300_000 };
const ssrcOf: Record<string, number> = { q: Q.ssrc, h: H.ssrc, f: F.ssrc };

const tracks: TrunkTrackDemand[] = [
  {
    streamId: 'bob-s',
    trackId: 'bob-a',
    kind: 'audio',
    purpose: 'm.usermedia',
    speaker: true,
    bitrateBps: 48_000,
  },
  {
    streamId: 'bob-s',
    trackId: 'bob-v',
    kind: 'video',
    purpose: 'm.usermedia',
    speaker: true,
    layers: ['q', 'h', 'f'].map((rid) => ({ rid, bitrateBps: rates[rid]!, subscribers: 1 })),
  },
];

t.test('3 Mbit/s demanded over a 1.5 Mbit/s trunk', async (t) => {
  const cc = new TrunkSendCc({ maxLinkBps: 20_000_000 });
  const sending = new Set(['q', 'h', 'f']);
  const announcements: { at: number; sending: readonly string[] }[] = [];
  let allocatedAt = -1;
  const allocate = (at: number): void => {
    const d = cc.allocate(tracks, at);
    sending.clear();
    for (const rid of d.video[0]!.sending) {
      sending.add(rid);
    }
    for (const c of d.changed) {
      announcements.push({ at, sending: c.sending });
    }
  };
  const r = simulateTrunkCc({
    durationMs: 30_000,
    streams: [AUDIO, Q, H, F],
    capacityBps: () => 1_500_000,
    rateBps: (ssrc, at) => {
      if (at % 100 === 0 && at !== allocatedAt) {
        allocatedAt = at;
        allocate(at);
      }
      if (ssrc === AUDIO.ssrc) {
        return 48_000;
      }
      const rid = Object.keys(ssrcOf).find((k) => ssrcOf[k] === ssrc)!;
      return sending.has(rid) ? rates[rid]! : 0;
    },
    onFeedback: (fb, at) => {
      if (fb.remb !== undefined) {
        cc.onRemb(fb.remb);
      }
      cc.onLossReports(
        fb.blocks.map((b) => b.fractionLost),
        at,
      );
      allocate(at);
    },
  });
  const windows = r.sentBytesPerWindow.map((b) => b * 16); // bit/s per 0.5 s
  const from5s = windows.slice(10);
  t.ok(
    from5s.every((bps) => bps < 1_500_000),
    `under the cap from 5 s on: max ${String(Math.max(...from5s))} bit/s`,
  );
  t.same(announcements.length, 1, 'one announcement in 30 s: no flapping');
  t.ok(announcements[0]!.at <= 5000, `announced at ${String(announcements[0]!.at)} ms`);
  t.same(announcements[0]!.sending, ['q', 'h'], 'f paused, q and h kept');
  t.equal(r.dropped.get(AUDIO.ssrc) ?? 0, 0, `audio: none of ${String(r.sent.get(AUDIO.ssrc))} dropped`);
  t.ok(
    (r.delivered.get(AUDIO.ssrc) ?? 0) >= (r.sent.get(AUDIO.ssrc) ?? 0) - 2,
    'all delivered but the last in flight',
  );
  t.ok((r.sent.get(AUDIO.ssrc) ?? 0) >= 1400, 'audio never paused (48 kbit/s of 120-byte packets for 30 s)');
  t.equal(r.dropped.get(Q.ssrc) ?? 0, 0, 'q: none dropped');
});
