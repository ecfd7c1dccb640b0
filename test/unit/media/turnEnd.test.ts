/**
 * The turn end (media/turnEnd.ts): one deferred run per turn; the trunk phase runs before the subscribers' phase
 * whatever order they were scheduled in; a callback scheduled during the run waits for the next turn; one that
 * throws does not stop the others and is counted; `settle` runs them early once the oldest has waited MAX_HOLD_MS (table, from
 * the time the first was scheduled); the real TrunkQueue and TurnSendQueue use it in that order, and the ingest
 * settles after every packet it forwards.
 */
import t from 'tap';
import type { RTCDtlsTransport } from 'werift';
import { TrunkHeaderWriter } from '../../../src/media/link/trunkHeader.js';
import { TrunkQueue } from '../../../src/media/link/trunkQueue.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import { MAX_HOLD_MS, TurnEnd } from '../../../src/media/turnEnd.js';
import { TurnSendQueue } from '../../../src/media/turnSendQueue.js';
import { UdpBatcher, type BatchSocket } from '../../../src/media/udpBatch.js';
import { bound } from '../../helpers/loopbackUdp.js';

/** A TurnEnd whose turn ends when the test says so, on a clock the test sets. */
function manual(): { te: TurnEnd; deferred: (() => void)[]; end: () => void; at: (ms: number) => void } {
  const deferred: (() => void)[] = [];
  let now = 0;
  const te = new TurnEnd(
    (fn) => deferred.push(fn),
    () => now,
  );
  return {
    te,
    deferred,
    at: (ms) => {
      now = ms;
    },
    end: () => {
      const fns = deferred.splice(0);
      for (const fn of fns) {
        fn();
      }
    },
  };
}

t.test('trunks run before subscribers, whatever the order scheduled; one deferral per turn', async (t) => {
  const { te, deferred, end } = manual();
  const order: string[] = [];
  te.schedule('subscribers', () => order.push('subscribers-1'));
  te.schedule('trunk', () => order.push('trunk-1'));
  te.schedule('subscribers', () => order.push('subscribers-2'));
  te.schedule('trunk', () => order.push('trunk-2'));
  t.equal(deferred.length, 1, 'one deferred run for the turn');
  t.same(order, [], 'nothing runs before the turn ends');
  end();
  t.same(order, ['trunk-1', 'trunk-2', 'subscribers-1', 'subscribers-2']);
  end();
  t.equal(order.length, 4, 'each callback ran once');
});

t.test('a callback scheduled while the turn end runs waits for the next turn', async (t) => {
  const { te, deferred, end } = manual();
  const order: string[] = [];
  te.schedule('subscribers', () => {
    order.push('first');
    te.schedule('trunk', () => order.push('next turn'));
  });
  end();
  t.same(order, ['first']);
  t.equal(deferred.length, 1, 'the next turn is deferred again');
  end();
  t.same(order, ['first', 'next turn']);
});

t.test('a callback that throws does not stop the others, and is counted', async (t) => {
  const { te, end } = manual();
  const order: string[] = [];
  te.schedule('trunk', () => {
    throw new Error('boom');
  });
  te.schedule('trunk', () => order.push('trunk'));
  te.schedule('subscribers', () => {
    throw new Error('boom again');
  });
  te.schedule('subscribers', () => order.push('subscribers'));
  t.equal(te.failed, 0);
  t.doesNotThrow(end);
  t.same(order, ['trunk', 'subscribers']);
  t.equal(te.failed, 2, 'both failures counted (sfu_send_flush_errors_total)');
});

t.test(
  'settle: nothing waiting, or waited less than MAX_HOLD_MS → nothing runs; at or past it → all run now',
  async (t) => {
    // rows: [scheduled at (ms), settled at (ms), ran early]
    const rows: [number, number, boolean][] = [
      [0, 0, false],
      [0, MAX_HOLD_MS - 0.001, false],
      [0, MAX_HOLD_MS, true],
      [5, 5 + MAX_HOLD_MS / 2, false],
      [5, 5 + MAX_HOLD_MS * 3, true],
      [1e9, 1e9 + MAX_HOLD_MS, true],
    ];
    for (const [scheduledAt, settledAt, early] of rows) {
      const { te, deferred, end, at } = manual();
      const order: string[] = [];
      at(scheduledAt);
      te.schedule('subscribers', () => order.push('subscribers'));
      at(scheduledAt + (settledAt - scheduledAt) / 2);
      te.schedule('trunk', () => order.push('trunk')); // a later callback does not restart the wait
      at(settledAt);
      te.settle();
      t.same(order, early ? ['trunk', 'subscribers'] : [], `scheduled ${scheduledAt}, settled ${settledAt}`);
      end();
      t.same(order, ['trunk', 'subscribers'], 'each ran once in all');
      t.equal(deferred.length, 0);
    }
    const { te, at } = manual();
    at(100);
    t.doesNotThrow(() => {
      te.settle();
    }, 'settle with nothing waiting');
  },
);

t.test(
  'after an early run, what is scheduled next runs at the turn end already deferred (or the next settle)',
  async (t) => {
    const { te, deferred, end, at } = manual();
    const order: string[] = [];
    te.schedule('subscribers', () => order.push('a'));
    at(MAX_HOLD_MS);
    te.settle();
    te.schedule('subscribers', () => order.push('b'));
    t.equal(deferred.length, 1, 'no second deferral: the first is still due');
    at(MAX_HOLD_MS * 1.5);
    te.settle();
    t.same(order, ['a'], "b's wait started when it was scheduled");
    end();
    t.same(order, ['a', 'b']);
  },
);

t.test('scheduler(phase) schedules in that phase', async (t) => {
  const { te, end } = manual();
  const order: string[] = [];
  te.scheduler('subscribers')(() => order.push('s'));
  te.scheduler('trunk')(() => order.push('t'));
  end();
  t.same(order, ['t', 's']);
});

t.test('the default TurnEnd defers to setImmediate', async (t) => {
  const te = new TurnEnd();
  const order: string[] = [];
  const done = new Promise<void>((resolve) => {
    te.schedule('subscribers', () => {
      order.push('subscribers');
      resolve();
    });
    te.schedule('trunk', () => order.push('trunk'));
  });
  order.push('same turn');
  await done;
  t.same(order, ['same turn', 'trunk', 'subscribers']);
});

t.test("the real queues: a trunk flush runs before the subscribers' flush of the same turn", async (t) => {
  const [tx, rx] = await Promise.all([bound(), bound()]);
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const order: string[] = [];
  class Recording extends UdpBatcher {
    override send(socket: BatchSocket, address: string, port: number, list: readonly Buffer[], n: number) {
      order.push('subscribers');
      return super.send(socket, address, port, list, n);
    }
  }
  const counters = new MediaCounters();
  const trunk = new TrunkQueue({
    counters,
    now: () => 0,
    transport: (): RTCDtlsTransport | undefined => {
      order.push('trunk'); // read once per queued packet by the flush (not connected: counted not_ready)
      return undefined;
    },
    header: () => new TrunkHeaderWriter(),
    sent: () => undefined,
  });
  const subscribers = new TurnSendQueue(new Recording(null));
  // The subscriber datagram is queued first: the order comes from the phases, not from who queued first.
  subscribers.push(tx, '127.0.0.1', rx.address().port, Buffer.from('to a subscriber'));
  trunk.push('video', 1, 96, 1, 1, false, false, undefined, Buffer.from('to the trunk'));
  await new Promise((r) => setImmediate(r));
  t.same(order, ['trunk', 'subscribers']);
  t.equal(counters.sends.not_ready, 1);
});
