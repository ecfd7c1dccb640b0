/**
 * The per-turn send queue (media/turnSendQueue.ts) on real loopback sockets: datagrams pushed during a turn
 * leave when it ends (one flush for every socket), in order per socket, each socket's in one batch; a datagram
 * for another address on the same socket sends what waits before it first; MAX_PER_SOCKET waiting sends at once;
 * a socket closed before the turn ended gets nothing and the datagrams are counted as `closed`; the reused slots
 * drop their references.
 */
import { bound, collect } from '../../helpers/loopbackUdp.js';
import t, { type Test } from 'tap';
import { MAX_PER_SOCKET, TurnSendQueue } from '../../../src/media/turnSendQueue.js';
import { batchBinding, batchCounts, UdpBatcher, type BatchSocket } from '../../../src/media/udpBatch.js';

const d = (i: number): Buffer => Buffer.from(`datagram-${i}`);

/** A UdpBatcher that records each batch (socket index, count) before sending it. */
class Recording extends UdpBatcher {
  readonly batches: { to: number; n: number }[] = [];
  override send(
    socket: BatchSocket,
    address: string,
    port: number,
    list: readonly Buffer[],
    n: number,
    transient?: boolean,
    offLen?: Int32Array,
  ): number {
    this.batches.push({ to: port, n });
    return super.send(socket, address, port, list, n, transient, offLen);
  }
}

/** A sending and a receiving loopback socket (closed at the end of `t`) and a queue on `batcher` whose turn
 * ends when the test runs `due.shift()!()`. */
async function queueOnLoopback(t: Test, batcher: UdpBatcher) {
  const [tx, rx] = await Promise.all([bound(), bound()]);
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const due: (() => void)[] = [];
  const q = new TurnSendQueue(batcher, (fn) => due.push(fn));
  return { tx, rx, due, q };
}

for (const native of [false, true]) {
  const binding = native ? batchBinding({}) : null;
  t.test(
    `${native ? 'native' : 'socket.send'}: a turn's datagrams leave at its end, per socket in order`,
    {
      skip: native && binding === null ? 'the native add-on is not built' : false,
    },
    async (t) => {
      const [tx1, tx2, rx1, rx2] = await Promise.all([bound(), bound(), bound(), bound()]);
      t.teardown(() => {
        for (const s of [tx1, tx2, rx1, rx2]) {
          s.close();
        }
      });
      const due: (() => void)[] = [];
      const batcher = new Recording(binding);
      const q = new TurnSendQueue(batcher, (fn) => due.push(fn));
      t.equal(
        q.accepts(tx1),
        native,
        'a bound node:dgram socket: queued only when the add-on can send on it',
      );
      t.equal(q.accepts({ send: () => undefined }), false, 'another kind of socket: never');
      const p1 = rx1.address().port;
      const p2 = rx2.address().port;
      const at1 = collect(rx1, 5);
      const at2 = collect(rx2, 3);
      for (let i = 0; i < 5; i++) {
        q.push(tx1, '127.0.0.1', p1, d(i));
        if (i < 3) {
          q.push(tx2, '127.0.0.1', p2, d(100 + i));
        }
      }
      t.equal(due.length, 1, 'one flush scheduled for the turn');
      t.equal(q.size, 8);
      t.same(batcher.batches, [], 'nothing sent before the turn ends');
      due.shift()!();
      t.equal(q.size, 0);
      t.same(
        batcher.batches,
        [
          { to: p1, n: 5 },
          { to: p2, n: 3 },
        ],
        'one batch per socket',
      );
      t.same(await at1, [0, 1, 2, 3, 4].map(d), 'socket 1: in order');
      t.same(await at2, [100, 101, 102].map(d), 'socket 2: in order');
      q.push(tx1, '127.0.0.1', p1, d(9));
      t.equal(due.length, 1, 'the next turn schedules again');
    },
  );
}

for (const native of [false, true]) {
  const binding = native ? batchBinding({}) : null;
  t.test(
    `${native ? 'native' : 'socket.send'}: slices of a buffer (pushSlice) and whole datagrams, in order`,
    { skip: native && binding === null ? 'the native add-on is not built' : false },
    async (t) => {
      const { tx, rx, due, q } = await queueOnLoopback(t, new UdpBatcher(binding));
      const slab = Buffer.from('0123456789abcdefghij');
      const other = Buffer.from('ZYXWVUTSRQ');
      const port = rx.address().port;
      const arriving = collect(rx, 5);
      q.pushSlice(tx, '127.0.0.1', port, slab, 10, 6);
      q.push(tx, '127.0.0.1', port, d(1));
      q.pushSlice(tx, '127.0.0.1', port, slab, 0, 3);
      q.pushSlice(tx, '127.0.0.1', port, other, 2, 5);
      q.pushSlice(tx, '127.0.0.1', port, slab, 19, 1);
      t.equal(q.size, 5);
      due.shift()!();
      t.same(
        await arriving,
        [Buffer.from('abcdef'), d(1), Buffer.from('012'), Buffer.from('XWVUT'), Buffer.from('j')],
        'each slice as its bytes, whole datagrams whole, in order',
      );
    },
  );
}

t.test('another address on the same socket: what waits before it leaves first', async (t) => {
  const [tx, rx1, rx2] = await Promise.all([bound(), bound(), bound()]);
  t.teardown(() => {
    for (const s of [tx, rx1, rx2]) {
      s.close();
    }
  });
  const due: (() => void)[] = [];
  const batcher = new Recording(null);
  const q = new TurnSendQueue(batcher, (fn) => due.push(fn));
  const p1 = rx1.address().port;
  const p2 = rx2.address().port;
  const at1 = collect(rx1, 3);
  const at2 = collect(rx2, 1);
  q.push(tx, '127.0.0.1', p1, d(1));
  q.push(tx, '127.0.0.1', p1, d(2));
  q.push(tx, '127.0.0.1', p2, d(3));
  t.same(batcher.batches, [{ to: p1, n: 2 }], 'the first address sent when the second came');
  q.push(tx, '127.0.0.1', p1, d(4));
  t.same(batcher.batches.length, 2, 'and the second when the first came back');
  due.shift()!();
  t.same(batcher.batches.at(-1), { to: p1, n: 1 });
  t.same(await at1, [1, 2, 4].map(d));
  t.same(await at2, [3].map(d));
});

t.test(`at most ${MAX_PER_SOCKET} wait per socket`, async (t) => {
  const batcher = new Recording(null);
  const { tx, rx, due, q } = await queueOnLoopback(t, batcher);
  const port = rx.address().port;
  const arriving = collect(rx, MAX_PER_SOCKET + 1);
  for (let i = 0; i <= MAX_PER_SOCKET; i++) {
    q.push(tx, '127.0.0.1', port, d(i));
  }
  t.same(batcher.batches, [{ to: port, n: MAX_PER_SOCKET }], 'a full batch sent at once');
  due.shift()!();
  t.same(batcher.batches.at(-1), { to: port, n: 1 });
  t.equal((await arriving).length, MAX_PER_SOCKET + 1);
});

t.test('a socket closed before the turn ends: nothing sent, counted', async (t) => {
  const [tx, rx] = await Promise.all([bound(), bound()]);
  t.teardown(() => {
    rx.close();
  });
  const due: (() => void)[] = [];
  const batcher = new Recording(batchBinding({}));
  const q = new TurnSendQueue(batcher, (fn) => due.push(fn));
  q.push(tx, '127.0.0.1', rx.address().port, d(1));
  q.push(tx, '127.0.0.1', rx.address().port, d(2));
  tx.close();
  const before = batchCounts.closed;
  t.doesNotThrow(() => {
    due.shift()!();
  }, 'no ERR_SOCKET_DGRAM_NOT_RUNNING');
  t.same(batcher.batches, [], 'not handed to the batcher');
  t.equal(batchCounts.closed - before, 2, 'counted as closed');
});

t.test('the default schedule flushes after the turn (setImmediate)', async (t) => {
  const [tx, rx] = await Promise.all([bound(), bound()]);
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const q = new TurnSendQueue(new UdpBatcher(null));
  const arriving = collect(rx, 1);
  q.push(tx, '127.0.0.1', rx.address().port, d(7));
  await Promise.resolve();
  t.equal(q.size, 1, 'not within the microtasks of the turn');
  await new Promise((r) => setImmediate(r));
  t.equal(q.size, 0);
  t.same(await arriving, [d(7)]);
});

t.test('slabFor without the add-on: none (each datagram its own buffer)', async (t) => {
  const tx = await bound();
  t.teardown(() => tx.close());
  t.equal(new TurnSendQueue(new UdpBatcher(null)).slabFor(tx), undefined);
});

const slabBinding = batchBinding({});
t.test(
  'slabFor: a slab only where the add-on sends; reset once the turn has sent what was taken',
  { skip: slabBinding === null ? 'the native add-on is not built' : false },
  async (t) => {
    const { tx, rx, due, q } = await queueOnLoopback(t, new UdpBatcher(slabBinding));
    const slab = q.slabFor(tx);
    t.ok(slab !== undefined, 'a slab for a socket the add-on sends on');
    t.equal(q.slabFor({ send: () => undefined }), undefined, 'none for a socket it cannot');
    const arriving = collect(rx, 2);
    for (const i of [1, 2]) {
      const b = slab!.take(d(i).length);
      d(i).copy(b);
      q.push(tx, '127.0.0.1', rx.address().port, b);
    }
    t.ok(slab!.used > 0);
    due.shift()!();
    t.equal(slab!.used, 0, 'reset by the flush');
    t.same(await arriving, [d(1), d(2)], 'both arrived as taken');
  },
);
