/**
 * TrunkOut, one trunk SSRC's send record and retransmission buffer: what a NACK gets back is the packet as sent —
 * a copy of its payload and audio level, not the publisher's datagram (which is not kept: writing into it after
 * `sent` changes nothing); slots are reused across the ring (a larger payload grows its slot), across the
 * sequence wrap; slots side by side in one chunk keep their own bytes; an unknown number is `missing`; `clear`
 * forgets everything.
 */
import t from 'tap';
import { TRUNK_RTX_PACKETS, TrunkOut } from '../../../../src/media/link/trunkOut.js';

const payloadOf = (n: number, fill: number) => Buffer.alloc(n, fill);

t.test('a NACK gets a copy of the payload and audio level as sent', async (t) => {
  const out = new TrunkOut(0, '', 0x1234, 'audio', 0);
  const datagram = Buffer.alloc(200, 7);
  const payload = datagram.subarray(20, 120);
  const level = datagram.subarray(15, 16);
  level[0] = 0x85;
  out.sent(100, 0, 111, 48_000, false, false, payload, level);
  datagram.fill(0); // the receive path is done with its datagram: whatever happens to it now
  out.refill(10);
  const r = out.answer(100, 10);
  t.ok(typeof r !== 'string', 'answered');
  if (typeof r === 'string') {
    return;
  }
  t.same([...r.payload], new Array(100).fill(7), 'the payload as sent');
  t.same([...(r.audioLevel ?? [])], [0x85], 'the audio level as sent');
  t.not(r.payload.buffer, datagram.buffer, 'memory of its own');
  t.equal(r.pt, 111);
  t.equal(r.ts, 48_000);
});

t.test('slots are reused around the ring and across the wrap; a larger payload grows its slot', async (t) => {
  const n = TRUNK_RTX_PACKETS.video;
  const out = new TrunkOut(1, 'f', 0x5678, 'video', 0);
  for (let i = 0; i < n + 10; i++) {
    const seq = (65_530 + i) & 0xffff;
    out.sent(
      seq,
      i,
      96,
      i * 3000,
      i % 9 === 8,
      false,
      payloadOf(i === n + 5 ? 1400 : 1000, i & 0xff),
      undefined,
    );
  }
  out.tick(600); // closes the send-rate window the retransmission budget is a share of
  out.refill(600);
  const last = (65_530 + n + 5) & 0xffff;
  const r = out.answer(last, 600);
  t.ok(
    typeof r !== 'string' && r.payload.length === 1400 && r.payload[0] === ((n + 5) & 0xff),
    'the larger one',
  );
  const r2 = out.answer((65_530 + n + 9) & 0xffff, 600);
  t.ok(
    typeof r2 !== 'string' && r2.payload.length === 1000 && r2.audioLevel === undefined,
    `its neighbour (${typeof r2 === 'string' ? r2 : r2.payload.length})`,
  );
  t.equal(out.answer(65_530, 600), 'missing', 'overwritten by a newer packet of its slot');
  out.clear();
  t.equal(out.answer(last, 610), 'missing', 'cleared');
});

t.test(
  'slots share chunks of memory: each keeps its own bytes, one larger than a slot included',
  async (t) => {
    const out = new TrunkOut(1, 'f', 0x9abc, 'video', 0);
    const sizes = [1536, 1, 1700, 1536, 900];
    sizes.forEach((n, i) => {
      out.sent(200 + i, 1000 + i, 96, i * 3000, false, false, payloadOf(n, 0x10 + i), undefined);
    });
    out.tick(1600);
    sizes.forEach((n, i) => {
      const now = 1600 + 200 * i; // each answer within the retransmission budget's refill, and the buffer's 1.5 s
      out.refill(now);
      const r = out.answer(200 + i, now);
      t.ok(
        typeof r !== 'string' && r.payload.length === n && r.payload.every((b) => b === 0x10 + i),
        `packet ${i} (${n} bytes) as sent (${typeof r === 'string' ? r : r.payload.length})`,
      );
    });
    out.clear();
    t.equal(out.answer(202, 2500), 'missing', 'cleared');
  },
);
