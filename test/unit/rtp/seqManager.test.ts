/**
 * SeqManager tables (mediasoup TestSeqManager style), each run from several start offsets so every row also
 * runs across the wrap (Pion's StartFrom sweep): seq 65535→0, picture id 32767→0, TL0PICIDX 255→0.
 */
import t from 'tap';
import { seqDiff, seqHigherThan } from '../../../src/rtp/seq.js';
import { SeqManager } from '../../../src/rtp/seqManager.js';
import type { SeqBits } from '../../../src/rtp/seq.js';
import type { TapTest } from '../../../harness/sfu.js';

interface Row {
  in: number;
  out?: number;
  sync?: boolean;
  drop?: boolean;
  note?: string;
}

/** Rows are relative to a start offset; `sync` rebases at (in - 1), as a forwarder does on a switch. */
const rows: Row[] = [
  { in: 0, out: 0, note: 'first packet passes through' },
  { in: 1, out: 1 },
  { in: 2, out: 2 },
  { in: 80, out: 3, sync: true, note: 'layer switch: continues at +1' },
  { in: 81, out: 4 },
  { in: 82, drop: true, note: 'padding-only: dropped' },
  { in: 83, out: 5, note: 'no hole after a drop' },
  { in: 85, out: 7, note: 'a real loss (84) keeps its hole' },
  { in: 84, out: 6, note: 'late retransmission maps into its hole' },
  { in: 82, note: 'the dropped input stays dropped (undefined)' },
  { in: 86, drop: true },
  { in: 87, drop: true },
  { in: 88, out: 8, note: 'two drops in a row' },
  { in: 83, out: 5, note: 'an old input maps as before' },
  { in: 200, out: 9, sync: true, note: 'second switch' },
  { in: 201, out: 10 },
];

function run(t: TapTest, bits: SeqBits, start: number): void {
  const mask = (1 << bits) - 1;
  const m = new SeqManager(bits);
  for (const r of rows) {
    const input = (start + r.in) & mask;
    if (r.sync === true) {
      m.sync((input - 1) & mask);
    }
    if (r.drop === true) {
      m.drop(input);
      continue;
    }
    const want = r.out === undefined ? undefined : (start + r.out) & mask;
    t.equal(m.input(input), want, `${bits}-bit from ${start}: in ${input} → ${want} ${r.note ?? ''}`);
  }
}

const sweeps: Record<SeqBits, number[]> = {
  16: [0, 1, 127, 128, 255, 32767, 32768, 65400, 65534, 65535],
  15: [0, 1, 32700, 32766, 32767],
  8: [0, 1, 127, 128, 200, 254, 255],
};

for (const bits of [16, 15, 8] as const) {
  t.test(`SeqManager(${bits}) table across start offsets`, async (t) => {
    for (const start of sweeps[bits]) {
      run(t, bits, start);
    }
  });
}

t.test('wrap boundaries are continuous', async (t) => {
  const cases: [SeqBits, number][] = [
    [16, 65535],
    [15, 32767],
    [8, 255],
  ];
  for (const [bits, last] of cases) {
    const m = new SeqManager(bits);
    m.input(last - 1);
    t.equal(m.input(last), last, `${bits}-bit ${last}`);
    t.equal(m.input(0), 0, `${bits}-bit ${last} → 0`);
    t.equal(m.input(1), 1);
  }
});

t.test('a switch across the wrap continues the output by one', async (t) => {
  const m = new SeqManager(16);
  m.input(65533);
  m.input(65534);
  m.sync(9); // the new layer's next packet is 10
  t.equal(m.input(10), 65535);
  t.equal(m.input(11), 0, 'output wraps');
  t.equal(m.input(12), 1);
});

t.test('many drops stay bounded and outputs stay contiguous', async (t) => {
  const m = new SeqManager(16);
  m.input(0);
  let expected = 1;
  for (let i = 1; i < 5000; i++) {
    if (i % 2 === 0) {
      m.drop(i); // e.g. a filtered temporal layer
    } else {
      t.equal(m.input(i), expected & 0xffff);
      expected++;
    }
  }
  t.equal(m.maxOutput, (expected - 1) & 0xffff);
});

t.test('helpers: wrap-aware comparison and distance', async (t) => {
  t.ok(seqHigherThan(0, 65535, 16));
  t.notOk(seqHigherThan(65535, 0, 16));
  t.ok(seqHigherThan(0, 32767, 15));
  t.ok(seqHigherThan(0, 255, 8));
  t.notOk(seqHigherThan(5, 5, 16));
  t.equal(seqDiff(0, 65535, 16), 1);
  t.equal(seqDiff(65535, 0, 16), -1);
  t.equal(seqDiff(10, 5, 8), 5);
  t.equal(seqDiff(5, 10, 8), -5);
});

/** Inserted outputs (padding probes): later inputs move up, earlier (late) inputs keep their outputs. */
const insertRows: {
  in?: number;
  out?: number;
  insert?: number;
  first?: number;
  drop?: boolean;
  note: string;
}[] = [
  { in: 0, out: 0, note: 'first' },
  { in: 1, out: 1, note: '' },
  { insert: 3, first: 2, note: 'three padding outputs after 1: 2, 3, 4' },
  { in: 2, out: 5, note: 'the next input continues after them' },
  { in: 4, out: 7, note: 'a loss (3) keeps its hole' },
  { in: 3, out: 6, note: 'its late retransmission maps into the hole' },
  { in: 1, out: 1, note: 'an input from before the insert keeps its output' },
  { in: 5, drop: true, note: 'a drop after an insert' },
  { insert: 2, first: 8, note: 'two more after 7' },
  { in: 6, out: 10, note: 'drop and insert both apply' },
  { in: 5, note: 'the dropped input stays dropped' },
];

t.test('inserted outputs across start offsets', async (t) => {
  for (const b of [16, 15, 8] as const) {
    const starts = sweeps[b];
    const mask = (1 << b) - 1;
    for (const start of starts) {
      const m = new SeqManager(b);
      for (const r of insertRows) {
        if (r.insert !== undefined) {
          t.equal(m.insert(r.insert), (start + r.first!) & mask, `${b}-bit from ${start}: ${r.note}`);
          continue;
        }
        const input = (start + r.in!) & mask;
        if (r.drop === true) {
          m.drop(input);
          continue;
        }
        const want = r.out === undefined ? undefined : (start + r.out) & mask;
        t.equal(m.input(input), want, `${b}-bit from ${start}: in ${input} → ${want} ${r.note}`);
      }
    }
  }
  t.equal(new SeqManager(16).insert(3), undefined, 'nothing to insert after before the first input');
  const m = new SeqManager(16);
  m.input(10);
  t.equal(m.insert(0), undefined, 'zero outputs: nothing reserved');
  t.equal(m.input(11), 11);
});

t.test('a switch after an insert continues after the inserted outputs', async (t) => {
  const m = new SeqManager(16);
  m.input(100);
  m.insert(5); // 101…105
  m.sync(999);
  t.equal(m.input(1000), 106);
});

t.test('many inserts stay bounded', async (t) => {
  const m = new SeqManager(16);
  m.input(0);
  let out = 0;
  for (let i = 1; i < 3000; i++) {
    m.insert(1);
    out += 2;
    t.equal(m.input(i), out & 0xffff);
  }
});
