/**
 * TrunkOut, one trunk SSRC's send record and retransmission buffer: what a NACK gets back is the packet as sent —
 * a copy of its payload and audio level, not the publisher's datagram (which is not kept: writing into it after
 * `sent` changes nothing); slots are reused across the ring (a larger payload grows its slot), across the
 * sequence wrap; slots side by side in one chunk keep their own bytes; an unknown number is `missing`; `clear`
 * forgets everything and lets the memory go. The buffer starts small and grows to the layer's rate (1.5 s of it,
 * up to its kind's most), every packet kept through the growth, across the sequence wrap too.
 */
import t from 'tap';
import {
  TRUNK_RTX_INITIAL_PACKETS,
  TRUNK_RTX_MS,
  TRUNK_RTX_PACKETS,
  TrunkOut,
} from '../../../../src/media/link/trunkOut.js';

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

/** Sends `count` packets from `firstSeq` at `pps`, starting at `t0`; payload byte = low byte of the index. */
function sendAt(out: TrunkOut, firstSeq: number, count: number, pps: number, t0: number): number {
  for (let i = 0; i < count; i++) {
    out.sent(
      (firstSeq + i) & 0xffff,
      t0 + (i * 1000) / pps,
      96,
      i * 3000,
      false,
      false,
      payloadOf(900, i & 0xff),
      undefined,
    );
  }
  return t0 + ((count - 1) * 1000) / pps;
}

t.test("the buffer grows to hold 1.5 s of the layer, no more, up to its kind's most", async (t) => {
  const rows: { name: string; kind: 'audio' | 'video'; pps: number; capacity: number }[] = [
    { name: 'a 360p layer, 90 packets/s', kind: 'video', pps: 90, capacity: 256 },
    {
      name: 'a slow layer, 30 packets/s (45 in 1.5 s)',
      kind: 'video',
      pps: 30,
      capacity: TRUNK_RTX_INITIAL_PACKETS,
    },
    { name: '720p at 400 packets/s', kind: 'video', pps: 400, capacity: 1024 },
    { name: '2,000 packets/s: capped', kind: 'video', pps: 2000, capacity: TRUNK_RTX_PACKETS.video },
    { name: 'audio, 50 packets/s', kind: 'audio', pps: 50, capacity: 128 },
    { name: 'audio at 500 packets/s: capped', kind: 'audio', pps: 500, capacity: TRUNK_RTX_PACKETS.audio },
  ];
  for (const row of rows) {
    const out = new TrunkOut(1, 'f', 0x1111, row.kind, 0);
    sendAt(out, 65_000, Math.ceil((row.pps * 4 * TRUNK_RTX_MS) / 1000), row.pps, 0); // 6 s, across the wrap
    t.equal(out.capacity, row.capacity, row.name);
  }
  const idle = new TrunkOut(1, 'f', 0x2222, 'video', 0);
  t.equal(idle.capacity, TRUNK_RTX_INITIAL_PACKETS, 'it starts small');
  t.equal(idle.allocatedBytes, 0, 'no packet memory before the first packet');
});

t.test('every packet is kept through the growth, across the sequence wrap', async (t) => {
  const out = new TrunkOut(1, 'f', 0x3333, 'video', 0);
  const first = 65_536 - 300; // the wrap falls in the middle of the growth
  const count = 700; // 1 s at 700 packets/s: the buffer doubles 64 → 1024 on the way
  const end = sendAt(out, first, count, 700, 0);
  t.equal(out.capacity, 1024, 'grown');
  out.tick(end);
  let kept = 0;
  const wrong: number[] = [];
  for (let i = 0; i < count; i++) {
    const now = end + 1 + i * 2; // refills the budget a little between answers
    out.refill(now);
    const r = out.answer((first + i) & 0xffff, now);
    if (typeof r === 'string') {
      wrong.push(i);
      continue;
    }
    if (r.payload.length === 900 && r.payload.every((b) => b === (i & 0xff)) && r.ts === i * 3000) {
      kept++;
    } else {
      wrong.push(i);
    }
  }
  t.equal(kept, count, `every packet answered as sent (wrong: ${wrong.slice(0, 5).join(', ')})`);
});

t.test('clear lets the memory go', async (t) => {
  const out = new TrunkOut(1, 'f', 0x4444, 'video', 0);
  sendAt(out, 10, 200, 200, 0);
  t.ok(out.allocatedBytes > 0, `packet memory in use (${out.allocatedBytes} bytes)`);
  out.clear();
  t.equal(out.allocatedBytes, 0, 'none after clear');
  t.equal(out.answer(150, 1000), 'missing', 'nothing kept');
});

t.test('the abs-send-time a packet left with is kept for its resends; none before it left', async (t) => {
  const out = new TrunkOut(0, 'f', 0x5555, 'video', 0);
  out.sent(300, 0, 96, 3000, false, false, payloadOf(50, 1), undefined);
  out.sent(301, 0, 96, 3000, true, false, payloadOf(50, 2), undefined);
  out.stamped(300, 0xabcdef);
  out.stamped(999, 0x111111); // not kept: nothing
  out.tick(100);
  out.refill(100);
  const r = out.answer(300, 100);
  t.equal(typeof r === 'string' ? r : r.absSendTime, 0xabcdef, 'as it left');
  const r2 = out.answer(301, 100);
  t.equal(typeof r2 === 'string' ? r2 : r2.absSendTime, -1, 'never left: none');
  t.equal(typeof r2 === 'string' ? undefined : r2.marker, true, 'the flags beside it unchanged');
  out.sent(300 + TRUNK_RTX_INITIAL_PACKETS * 64, 10_000, 96, 0, false, false, payloadOf(50, 3), undefined);
  out.stamped(300, 0x222222); // its slot may hold a newer packet now: that one is not stamped
  out.refill(10_100);
  const r3 = out.answer(300 + TRUNK_RTX_INITIAL_PACKETS * 64, 10_100);
  t.equal(
    typeof r3 === 'string' ? r3 : r3.absSendTime,
    -1,
    'a newer packet in the slot keeps its own (none)',
  );
});
