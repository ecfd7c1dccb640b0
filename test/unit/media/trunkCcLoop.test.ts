/**
 * Both halves of trunk congestion control in one closed loop on the simulated trunk (test/helpers/trunkCcSim.ts):
 * the sending focus's TrunkSendCc chooses layers from the REMB and RR blocks the receiving focus's
 * TrunkReceiveCc writes, the streams are paced at the chosen layers' bitrates, the trunk is a 1.5 Mbit/s FIFO.
 * The sender also sends the padding TrunkSendCc asks for (275-byte packets on an SSRC of their own).
 * 3 Mbit/s demanded (Opus + q/h/f):
 * - within 5 s the media rate is under the cap and stays there (media + probe padding too, on average);
 *   f is paused and announced once, q and h kept;
 * - audio: every packet delivered (no queue drop, no pause);
 * - no layer flaps (one announcement in 30 s);
 * - the cap lifted: padding probes the estimate up until f fits, f resumes (announced), padding stops.
 */
import t from 'tap';
import type { TrunkTrackDemand } from '../../../src/forwarding/trunkAllocation.js';
import { TrunkSendCc } from '../../../src/media/link/trunkCcSend.js';
import { simulateTrunkCc, type SimStream } from '../../helpers/trunkCcSim.js';

const AUDIO: SimStream = { ssrc: 4101, clockRate: 48_000, packetBytes: 120 };
const Q: SimStream = { ssrc: 4111, clockRate: 90_000, packetBytes: 1000 };
const H: SimStream = { ssrc: 4112, clockRate: 90_000, packetBytes: 1100 };
const F: SimStream = { ssrc: 4113, clockRate: 90_000, packetBytes: 1200 };
const PAD: SimStream = { ssrc: 0x7a7a_0001, clockRate: 90_000, packetBytes: 275 };
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

interface Run {
  r: ReturnType<typeof simulateTrunkCc>;
  announcements: { at: number; sending: readonly string[] }[];
  paddingAt: (at: number) => number;
}

function run(durationMs: number, capacityBps: (t: number) => number): Run {
  const cc = new TrunkSendCc({ maxLinkBps: 20_000_000 });
  const sending = new Set(['q', 'h', 'f']);
  const announcements: { at: number; sending: readonly string[] }[] = [];
  const padding: { at: number; bps: number }[] = [];
  let paddingBps = 0;
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
    paddingBps = d.paddingBps;
    padding.push({ at, bps: paddingBps });
  };
  const r = simulateTrunkCc({
    durationMs,
    streams: [AUDIO, Q, H, F, PAD],
    announced: [AUDIO, Q, H, F],
    capacityBps,
    rateBps: (ssrc, at) => {
      if (at % 100 === 0 && at !== allocatedAt) {
        allocatedAt = at;
        allocate(at);
      }
      if (ssrc === AUDIO.ssrc) {
        return 48_000;
      }
      if (ssrc === PAD.ssrc) {
        return paddingBps;
      }
      const rid = Object.keys(ssrcOf).find((k) => ssrcOf[k] === ssrc)!;
      return sending.has(rid) ? rates[rid]! : 0;
    },
    onFeedback: (fb, at) => {
      if (fb.remb !== undefined) {
        cc.onRemb(fb.remb, at);
      }
      cc.onLossReports(
        fb.blocks.map((b) => b.fractionLost),
        at,
      );
      allocate(at);
    },
  });
  const paddingAt = (at: number): number => padding.filter((p) => p.at <= at).at(-1)?.bps ?? 0;
  return { r, announcements, paddingAt };
}

const bps = (bytes: readonly (number | undefined)[]): number[] => bytes.map((b) => (b ?? 0) * 16);

t.test('3 Mbit/s demanded over a 1.5 Mbit/s trunk', async (t) => {
  const { r, announcements } = run(30_000, () => 1_500_000);
  const windows = bps(r.sentBytesPerWindow);
  const pad = bps(r.ssrcBytesPerWindow.get(PAD.ssrc)!);
  const media = windows.map((w, i) => w - (pad[i] ?? 0)).slice(10);
  t.ok(
    media.every((x) => x < 1_500_000),
    `media under the cap from 5 s on: max ${String(Math.max(...media))} bit/s`,
  );
  const all = windows.slice(10);
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  t.ok(mean < 1_500_000, `media + padding under the cap on average: ${String(Math.round(mean))} bit/s`);
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

t.test('the cap lifted: padding probes until f fits again', async (t) => {
  const { r, announcements, paddingAt } = run(60_000, (at) => (at < 15_000 ? 1_500_000 : 50_000_000));
  t.same(
    announcements.map((a) => a.sending.join(',')),
    ['q,h', 'q,h,f'],
    `paused, then resumed at ${String(announcements[1]?.at)} ms`,
  );
  const resumedAt = announcements[1]?.at ?? Number.POSITIVE_INFINITY;
  t.ok(resumedAt > 15_000 && resumedAt < 45_000, 'resumed within 30 s of the cap going');
  t.ok(paddingAt(resumedAt - 100) > 0, 'padding ran before the resume');
  t.equal(paddingAt(60_000), 0, 'no padding once everything demanded is sent');
  t.equal(r.dropped.get(AUDIO.ssrc) ?? 0, 0, 'audio: none dropped');
});
