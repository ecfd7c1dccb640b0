// LinkFeedback: the remote focus's RTCP to what acts on it — SRs to the relayed clocks, report blocks to the
// trunk sends, REMB to congestion control, NACK/PLI/FIR to the trunk send — and NACKs, PLIs and FIRs within the
// link's feedback budget: over it ignored and counted, past the flood bound reported once.
import t from 'tap';
import { UNITS_PER_SECOND } from '../../../../src/media/feedbackBudget.js';
import { LinkFeedback } from '../../../../src/media/link/linkFeedback.js';
import type { TrunkOut } from '../../../../src/media/link/trunkOut.js';
import type { TrunkSend } from '../../../../src/media/link/trunkSender.js';
import type { LinkCongestionControl } from '../../../../src/media/link/types.js';
import { MediaCounters } from '../../../../src/media/mediaMetrics.js';

function rig() {
  const calls: string[] = [];
  const send = {
    onNack: (_o: TrunkOut, seqs: readonly number[]) => calls.push(`nack ${seqs.join(',')}`),
    onKeyframeRequest: () => calls.push('keyframe'),
    onReport: (_o: TrunkOut, b: { ssrc: number; fractionLost: number }) => (
      calls.push(`report ${b.ssrc}`),
      b.fractionLost
    ),
  } as unknown as TrunkSend;
  const outs = new Map([[0x1111, { send, out: {} as unknown as TrunkOut }]]);
  const cc = {
    onRemb: (bps: number) => calls.push(`remb ${bps}`),
    onReports: (r: readonly unknown[]) => calls.push(`cc reports ${r.length}`),
    onSenderReport: (ssrc: number) => calls.push(`cc sr ${ssrc}`),
  } as unknown as LinkCongestionControl;
  const counters = new MediaCounters();
  let floods = 0;
  const fb = new LinkFeedback(
    {
      outs,
      onSenderReport: (ssrc) => calls.push(`sr ${ssrc}`),
      cc: (fn) => fn(cc),
      counters,
      onFlood: () => floods++,
    },
    0,
  );
  return { fb, calls, counters, floods: () => floods };
}

t.test('each kind to what acts on it', async (t) => {
  const { fb, calls, counters } = rig();
  const block = { ssrc: 0x1111, fractionLost: 0, lsr: 0, dlsr: 0 };
  fb.on({ kind: 'sr', ssrc: 0x2222, ntpMs: 1, rtpTs: 2, lsr: 3, reports: [block] }, 0);
  fb.on({ kind: 'rr', reports: [block] }, 0);
  fb.on({ kind: 'remb', bitrateBps: 1_000_000 }, 0);
  fb.on({ kind: 'nack', mediaSsrc: 0x1111, seqs: [65535, 0] }, 0);
  fb.on({ kind: 'nack', mediaSsrc: 0x9999, seqs: [1] }, 0);
  fb.on({ kind: 'pli', mediaSsrc: 0x1111 }, 0);
  fb.on({ kind: 'fir', ssrcs: [0x1111, 0x9999] }, 0);
  fb.on({ kind: 'unknown', reason: 'unsupported_type' }, 0);
  t.same(calls, [
    'sr 8738',
    'cc sr 8738',
    'report 4369',
    'cc reports 1',
    'report 4369',
    'cc reports 1',
    'remb 1000000',
    'nack 65535,0',
    'keyframe',
    'keyframe',
  ]);
  t.equal(counters.nackReceived, 3);
  t.equal(counters.retransmits.missing, 1, 'a NACK for an SSRC this focus does not send');
});

t.test('a NACK flood: ignored over the budget, counted, reported once past the bound', async (t) => {
  const { fb, calls, counters, floods } = rig();
  const seqs = Array.from({ length: 500 }, (_, i) => i);
  let now = 0;
  for (let i = 0; i < 1000; i++, now += 10) {
    fb.on({ kind: 'nack', mediaSsrc: 0x1111, seqs }, now); // 50,000 units a second
  }
  t.ok(counters.feedbackIgnored > 0, `ignored ${counters.feedbackIgnored} units`);
  const applied = calls.length;
  t.ok(applied * 500 <= UNITS_PER_SECOND * 12, `applied within the budget (${applied} NACK packets in 10 s)`);
  t.equal(floods(), 1, 'reported once');
  const before = calls.length;
  fb.on({ kind: 'pli', mediaSsrc: 0x1111 }, now + 10_000);
  fb.on({ kind: 'rr', reports: [{ ssrc: 0x1111, fractionLost: 0, lsr: 0, dlsr: 0 }] }, now + 10_000);
  t.ok(calls.length > before, 'reports still read (only feedback is budgeted)');
});

t.test('congestion control hears the trunk’s own fraction lost, other blocks unchanged', async (t) => {
  const send = { onReport: () => 5 } as unknown as TrunkSend;
  const heard: number[][] = [];
  const cc = {
    onReports: (r: readonly { fractionLost: number }[]) => heard.push(r.map((b) => b.fractionLost)),
  } as unknown as LinkCongestionControl;
  const fb = new LinkFeedback(
    {
      outs: new Map([[0x1111, { send, out: {} as unknown as TrunkOut }]]),
      onSenderReport: () => undefined,
      cc: (fn) => fn(cc),
      counters: new MediaCounters(),
      onFlood: () => undefined,
    },
    0,
  );
  fb.on(
    {
      kind: 'rr',
      reports: [
        { ssrc: 0x1111, fractionLost: 30, lsr: 0, dlsr: 0 },
        { ssrc: 0x2222, fractionLost: 30, lsr: 0, dlsr: 0 },
      ],
    },
    0,
  );
  t.same(heard, [[5, 30]]);
});
