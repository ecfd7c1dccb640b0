/**
 * `Forwarder.decideInto` (the hot path's decision written into one reused object) decides exactly as `decide`:
 * twin forwarders fed the same packets — starts, layer switches up and down, picture id and TL0PICIDX present
 * then absent (a stale value in the reused object is cleared, not carried on), the sequence wrap, drops of every
 * kind met on the way — give equal decisions packet by packet; drops are shared objects per reason.
 */
import t from 'tap';
import { Forwarder, forwardScratch, type ForwarderPacket } from '../../../src/forwarding/forwarder.js';

interface Step {
  target?: number;
  p: ForwarderPacket;
}

/** Layer l's packets: seq from 65,500 + 1,000·l (layer 0 wraps), ts 3,000 per frame, picture id per frame. */
function steps(): Step[] {
  const out: Step[] = [];
  const seq = [65_500, 1_000, 2_000];
  let frame = 0;
  const plan: { layer: number; target?: number; keyframe?: boolean; vp8: 'both' | 'pid' | 'none' }[] = [
    { layer: 0, target: 0, keyframe: true, vp8: 'both' },
    ...Array.from({ length: 40 }, () => ({ layer: 0, vp8: 'both' as const })),
    { layer: 1, vp8: 'both' }, // before the switch: not the target
    { layer: 1, target: 1, vp8: 'both' }, // the target, not a keyframe: waits
    { layer: 1, keyframe: true, vp8: 'pid' }, // the switch up, no TL0PICIDX from here
    ...Array.from({ length: 10 }, () => ({ layer: 1, vp8: 'pid' as const })),
    { layer: 0, vp8: 'pid' }, // the old layer: dropped
    { layer: 2, target: 2, keyframe: true, vp8: 'none' }, // no picture id at all
    ...Array.from({ length: 10 }, () => ({ layer: 2, vp8: 'none' as const })),
    { layer: 0, target: 0, keyframe: true, vp8: 'both' }, // down again, both fields back
    ...Array.from({ length: 5 }, () => ({ layer: 0, vp8: 'both' as const })),
  ];
  for (const s of plan) {
    frame++;
    const l = s.layer;
    seq[l] = ((seq[l] as number) + 1) & 0xffff;
    const vp8 =
      s.vp8 === 'none'
        ? undefined
        : s.vp8 === 'pid'
          ? { pictureId: (1000 * l + frame) & 0x7fff, pictureIdBits: 15 as const }
          : { pictureId: (1000 * l + frame) & 0x7fff, pictureIdBits: 15 as const, tl0PicIdx: frame & 0xff };
    out.push({
      ...(s.target !== undefined ? { target: s.target } : {}),
      p: {
        layer: l,
        seq: seq[l],
        ts: frame * 3000,
        marker: true,
        payloadSize: 900,
        keyframe: s.keyframe === true,
        vp8,
      },
    });
  }
  return out;
}

t.test('decideInto decides as decide, packet by packet, with one reused object', async (t) => {
  const a = new Forwarder({ clockRate: 90_000, keyframeGated: true });
  const b = new Forwarder({ clockRate: 90_000, keyframeGated: true });
  const scratch = forwardScratch();
  let forwarded = 0;
  let dropped = 0;
  const reasons = new Set<string>();
  const mismatches: string[] = [];
  steps().forEach((s, i) => {
    if (s.target !== undefined) {
      a.setTarget(s.target);
      b.setTarget(s.target);
    }
    const now = 1000 + i * 33;
    const want = a.decide(s.p, now);
    const got = b.decideInto(s.p, now, undefined, scratch);
    if (want.forward) {
      forwarded++;
      const g = got.forward ? { ...got } : got;
      const w = { pictureId: undefined, tl0PicIdx: undefined, from: undefined, ...want };
      if (
        JSON.stringify(g, Object.keys(w).sort()) !== JSON.stringify(w, Object.keys(w).sort()) ||
        got !== scratch
      ) {
        mismatches.push(`${i}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
      }
    } else {
      dropped++;
      reasons.add(want.reason);
      if (got.forward || got.reason !== want.reason || got !== want) {
        mismatches.push(`${i}: ${JSON.stringify(got)} vs ${JSON.stringify(want)} (drop)`);
      }
    }
  });
  t.same(mismatches, [], 'every decision equal');
  t.ok(forwarded > 60, `forwarded ${forwarded}`);
  t.same([...reasons].sort(), ['layer_mismatch', 'waiting_keyframe'], 'drops met on the way');
  t.ok(dropped >= 3, `dropped ${dropped}`);
});

t.test('a stale picture id, TL0PICIDX or from in the reused object is cleared', async (t) => {
  const f = new Forwarder({ clockRate: 90_000, keyframeGated: true });
  const out = forwardScratch();
  f.setTarget(0);
  const first = f.decideInto(
    {
      layer: 0,
      seq: 10,
      ts: 0,
      marker: true,
      payloadSize: 100,
      keyframe: true,
      vp8: { pictureId: 5, pictureIdBits: 15, tl0PicIdx: 7 },
    },
    0,
    undefined,
    out,
  );
  t.match(first, { forward: true, pictureId: 5, tl0PicIdx: 7, switched: true });
  f.setTarget(1);
  const up = f.decideInto(
    { layer: 1, seq: 500, ts: 3000, marker: true, payloadSize: 100, keyframe: true },
    33,
    undefined,
    out,
  );
  t.match(up, { forward: true, switched: true, from: 0 });
  t.equal(out.pictureId, undefined, 'no picture id carried on');
  t.equal(out.tl0PicIdx, undefined, 'no TL0PICIDX carried on');
  const next = f.decideInto(
    { layer: 1, seq: 501, ts: 6000, marker: true, payloadSize: 100, keyframe: false },
    66,
    undefined,
    out,
  );
  t.match(next, { forward: true, switched: false });
  t.equal(out.from, undefined, 'no from carried on');
});
