/**
 * media/srtp/replayWindow: the SRTP/SRTCP replay list (RFC 3711 §3.3.2) as tables — each row a stream of packet
 * indexes as they arrive, with the verdict expected for each (a packet judged fresh is then accepted, as the
 * receivers do once it authenticates): in order, duplicates, late packets inside the window, packets older than
 * it, jumps by less and by more than the window, the 16-bit sequence wrap (the 48-bit index just goes on),
 * and an index judged fresh but never accepted (a forged packet) left unmarked.
 */
import t from 'tap';
import { REPLAY_WINDOW, ReplayWindow } from '../../../../src/media/srtp/replayWindow.js';

const W = REPLAY_WINDOW;
const WRAP = 0x1_0000; // ROC 1, SEQ 0

// [why, [index, fresh?][]]
const rows: [string, [number, boolean][]][] = [
  [
    'in order',
    [
      [0, true],
      [1, true],
      [2, true],
    ],
  ],
  [
    'the same index twice',
    [
      [10, true],
      [10, false],
      [11, true],
      [10, false],
    ],
  ],
  [
    'late inside the window: once',
    [
      [100, true],
      [102, true],
      [101, true],
      [101, false],
      [102, false],
    ],
  ],
  [
    'the window edge: top − (W − 1) is in, top − W is out',
    [
      [5000, true],
      [5000 - (W - 1), true],
      [5000 - W, false],
    ],
  ],
  [
    'a jump shorter than the window keeps the marks still inside it',
    [
      [2000, true],
      [2000 + W - 1, true],
      [2000, false],
      [2001, true],
    ],
  ],
  [
    'a jump of a whole window forgets everything before it',
    [
      [3000, true],
      [3001, true],
      [3000 + W + 1, true],
      [3001, false],
      [3000 + W + 2, true],
      [3002 + W, false],
    ],
  ],
  [
    'slots reused after the slide are clear: the number a window later is fresh',
    [
      [7, true],
      [7 + W, true],
      [7 + W, false],
      [8 + W, true],
    ],
  ],
  [
    'across the 16-bit wrap (ROC 0 → 1)',
    [
      [WRAP - 2, true],
      [WRAP - 1, true],
      [WRAP, true],
      [WRAP - 1, false],
      [WRAP + 1, true],
      [WRAP - 3, true],
      [WRAP - 3, false],
    ],
  ],
  [
    'high 48-bit indexes (ROC near 2^32)',
    [
      [0xffff_fffe * WRAP + 65535, true],
      [0xffff_ffff * WRAP, true],
      [0xffff_fffe * WRAP + 65535, false],
      [0xffff_ffff * WRAP + 1, true],
    ],
  ],
];

for (const [why, stream] of rows) {
  t.test(why, async (t) => {
    const w = new ReplayWindow();
    stream.forEach(([index, fresh], i) => {
      t.equal(w.fresh(index), fresh, `#${i} index ${index}: ${fresh ? 'fresh' : 'replay'}`);
      if (fresh) {
        w.accept(index);
      }
    });
  });
}

t.test('an index judged fresh but not accepted (it failed authentication) stays fresh', async (t) => {
  const w = new ReplayWindow();
  w.accept(50);
  t.ok(w.fresh(49));
  t.ok(w.fresh(49), 'still: nothing was marked');
  t.ok(w.fresh(60));
  t.equal(w.top, 50, 'the window did not slide either');
  w.accept(49);
  t.notOk(w.fresh(49), 'once accepted, a replay');
});

t.test('every index of a window-long stream in reverse order is accepted once', async (t) => {
  const w = new ReplayWindow();
  const top = 10 * W;
  w.accept(top);
  let fresh = 0;
  for (let i = top - 1; i > top - W; i--) {
    if (w.fresh(i)) {
      fresh++;
      w.accept(i);
    }
  }
  t.equal(fresh, W - 1, `all ${W - 1} late packets inside the window`);
  let again = 0;
  for (let i = top; i > top - W; i--) {
    again += w.fresh(i) ? 1 : 0;
  }
  t.equal(again, 0, 'and none of them twice');
});
