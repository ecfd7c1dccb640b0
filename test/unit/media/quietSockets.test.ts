/**
 * Quiet sockets (media/quietSockets.ts, udpReceive.ts, native/watch.c `watchPause`), on real loopback sockets
 * with the add-on and a manual clock driving the tick: a socket that has seen no RTP for the quiet ticks stops
 * its readable events — a datagram then waits for the next tick and is read there, in order; RTP read on the
 * tick, or RTP sent on the socket (`markRtpSent`), starts its events again at once (the next datagram arrives
 * without a tick) and the quiet count starts over; a handler that hands a datagram to asynchronous code while
 * paused gets the rest after the microtasks, still without a tick; switched off, nothing pauses; a closed
 * socket leaves the ticker. Which paused sockets have something waiting is asked with one poll() a tick
 * (`pausedReadiness`, native `watchesReadable`): only those are read; a failed answer reads each. `isRtp`
 * tells RTP from RTCP, STUN and DTLS.
 */
import type { Socket } from 'node:dgram';
import t, { type Test } from 'tap';
import { bound } from '../../helpers/loopbackUdp.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { isRtp, QuietSockets, type Readiness } from '../../../src/media/quietSockets.js';
import { batchBinding } from '../../../src/media/udpBatch.js';
import { markRtpSent, pausedReadiness, receiveInBatches } from '../../../src/media/udpReceive.js';
import type { NativeSrtpBinding } from '../../../src/media/srtp/nativeSrtp.js';
import { Ticker } from '../../../src/util/ticker.js';
import { NATIVE_SKIP } from './srtp/impls.js';

const native = batchBinding({}) as NativeSrtpBinding;
const TICK_MS = 100;
const QUIET = 3;

/** An RTCP receiver report's first bytes (version 2, PT 201), numbered in its last byte. */
const rtcp = (i: number): Buffer => Buffer.from([0x81, 201, 0, 7, 0, 0, 0, i]);
/** An RTP packet (version 2, PT 96), numbered in its last byte. */
const rtp = (i: number): Buffer => Buffer.from([0x80, 96, 0, i, 0, 0, 0, 1, 0, 0, 0, 2, i]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded: 5 s) until `cond()` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(5);
  }
}

interface Rig {
  clock: FakeClock;
  ticker: Ticker;
  quiet: QuietSockets;
  rx: Socket;
  tx: Socket;
  got: number[];
  send: (b: Buffer) => Promise<void>;
  /** Moves the manual clock by `n` ticks. */
  ticks: (n: number) => void;
}

function sendTo(tx: Socket, port: number, b: Buffer): Promise<void> {
  return new Promise<void>((r) => {
    tx.send(b, port, '127.0.0.1', () => {
      r();
    });
  });
}

/** The add-on with its `recvBatch` calls counted. */
function counting(): { binding: NativeSrtpBinding; reads: number[] } {
  const reads = [0];
  const binding: NativeSrtpBinding = {
    ...native,
    recvBatch: (...a) => {
      reads[0] = (reads[0] ?? 0) + 1;
      return native.recvBatch(...a);
    },
  };
  return { binding, reads };
}

/** `readiness`: the quiet set's own (default: the process's); `errors`: collects its failures instead of throwing. */
async function rig(
  t: Test,
  enabled = true,
  asyncAt = -1,
  o: { readiness?: Readiness; errors?: unknown[] } = {},
): Promise<Rig> {
  const clock = new FakeClock();
  const ticker = new Ticker(clock, TICK_MS);
  const errors = o.errors;
  const quiet = new QuietSockets(ticker, QUIET, enabled, (e) => {
    if (errors === undefined) {
      throw e;
    }
    errors.push(e);
  });
  quiet.useReadiness(o.readiness ?? pausedReadiness()); // as the process's own quiet sockets
  const rx = await bound();
  const tx = await bound();
  t.teardown(() => {
    tx.close();
    try {
      rx.close();
    } catch {
      // closed by the test
    }
  });
  const got: number[] = [];
  const on = receiveInBatches(
    rx,
    (data) => {
      const n = data[data.length - 1] as number;
      got.push(n);
      return n === asyncAt;
    },
    (e) => {
      throw e;
    },
    native,
    quiet,
  );
  t.equal(on, true, 'read in batches');
  const port = rx.address().port;
  return {
    clock,
    ticker,
    quiet,
    rx,
    tx,
    got,
    send: (b) => sendTo(tx, port, b),
    ticks: (n) => {
      clock.advance(n * TICK_MS);
    },
  };
}

t.test('isRtp', async (t) => {
  t.ok(isRtp(rtp(1)), 'RTP, PT 96');
  t.ok(isRtp(Buffer.from([0x90, 0xe0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2])), 'RTP with the marker, PT 96');
  t.notOk(isRtp(rtcp(1)), 'RTCP RR (201)');
  t.notOk(isRtp(Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2])), 'RTCP SR (200)');
  t.notOk(isRtp(Buffer.from([0x80, 223, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2])), 'RTCP range end (223)');
  t.ok(isRtp(Buffer.from([0x80, 224, 0, 6, 0, 0, 0, 1, 0, 0, 0, 2])), 'PT 96 with the marker (224)');
  t.notOk(isRtp(Buffer.from([0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0])), 'STUN');
  t.notOk(isRtp(Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0])), 'DTLS');
  t.notOk(isRtp(Buffer.from([0x80, 96, 0, 1])), 'shorter than an RTP header');
});

t.test('quiet sockets', { skip: NATIVE_SKIP }, async (t) => {
  t.test('no RTP for the quiet ticks: read on the tick, in order', async (t) => {
    const r = await rig(t);
    await r.send(rtcp(1));
    await until(() => r.got.length === 1, 'read on its event before the socket is quiet');
    r.ticks(QUIET - 1);
    await r.send(rtcp(2));
    await until(() => r.got.length === 2, 'still on its event one tick before quiet');
    r.ticks(1); // quiet now: paused
    await r.send(rtcp(3));
    await r.send(rtcp(4));
    await sleep(200);
    t.same(r.got, [1, 2], 'paused: nothing read without a tick');
    r.ticks(1);
    t.same(r.got, [1, 2, 3, 4], 'read on the tick, in order');
  });

  t.test('RTP read on the tick starts its events again', async (t) => {
    const r = await rig(t);
    r.ticks(QUIET);
    await r.send(rtp(1));
    await sleep(100);
    t.same(r.got, [], 'paused');
    r.ticks(1);
    t.same(r.got, [1], 'the RTP packet read on the tick');
    await r.send(rtcp(2));
    await until(() => r.got.length === 2, 'the next datagram without a tick');
    r.ticks(QUIET - 1);
    await r.send(rtcp(3));
    await until(() => r.got.length === 3, 'not quiet again before the quiet ticks');
    r.ticks(1);
    await r.send(rtcp(4));
    await sleep(150);
    t.same(r.got, [1, 2, 3], 'quiet again after them');
    r.ticks(1);
    t.same(r.got, [1, 2, 3, 4]);
  });

  t.test('RTP sent on the socket starts its events again at once', async (t) => {
    const r = await rig(t);
    r.ticks(QUIET);
    markRtpSent(r.rx);
    await r.send(rtcp(1));
    await until(() => r.got.length === 1, 'read on its event, no tick');
    r.ticks(QUIET - 1);
    markRtpSent(r.rx); // sending keeps it from going quiet
    r.ticks(QUIET - 1);
    await r.send(rtcp(2));
    await until(() => r.got.length === 2, 'still on its events');
  });

  t.test('paused, a datagram to asynchronous code: the rest after the microtasks, no tick', async (t) => {
    const r = await rig(t, true, 2);
    r.ticks(QUIET);
    for (let i = 1; i <= 4; i++) {
      await r.send(rtcp(i));
    }
    await sleep(100);
    r.ticks(1);
    t.same(r.got, [1, 2], 'the tick stops at the asynchronous one');
    await until(() => r.got.length === 4, 'the rest, without another tick');
    t.same(r.got, [1, 2, 3, 4], 'in order');
  });

  t.test('switched off: never paused', async (t) => {
    const r = await rig(t, false);
    r.ticks(QUIET * 10);
    await r.send(rtcp(1));
    await until(() => r.got.length === 1, 'read on its event');
    t.equal(r.ticker.size, 0, 'no tick job at all');
  });

  t.test('one poll() a tick: only the paused sockets with a datagram waiting are read', async (t) => {
    const clock = new FakeClock();
    const ticker = new Ticker(clock, TICK_MS);
    const errors: unknown[] = [];
    const quiet = new QuietSockets(ticker, QUIET, true, (e) => errors.push(e));
    quiet.useReadiness(pausedReadiness());
    const { binding, reads } = counting();
    const tx = await bound();
    const sockets: Socket[] = [];
    const got: number[][] = [];
    t.teardown(() => {
      tx.close();
      for (const s of sockets) {
        s.close();
      }
    });
    for (let k = 0; k < 5; k++) {
      const rx = await bound();
      sockets.push(rx);
      const mine: number[] = [];
      got.push(mine);
      receiveInBatches(
        rx,
        (data) => {
          mine.push(data[data.length - 1] as number);
          return false;
        },
        (e) => errors.push(e),
        binding,
        quiet,
      );
    }
    clock.advance(QUIET * TICK_MS); // all five paused
    const before = reads[0] ?? 0;
    clock.advance(10 * TICK_MS);
    t.equal((reads[0] ?? 0) - before, 0, 'ten ticks with nothing waiting: no socket read');
    const third = sockets[2] as Socket;
    await sendTo(tx, third.address().port, rtcp(7));
    await sleep(50);
    t.same(got, [[], [], [], [], []], 'paused: not read before the tick');
    clock.advance(TICK_MS);
    t.same(got, [[], [], [7], [], []], 'read on the tick');
    t.equal((reads[0] ?? 0) - before, 1, 'that socket alone read, once');
    t.same(errors, []);
  });

  t.test('a readiness that fails: every paused socket read, the failure reported', async (t) => {
    const errors: unknown[] = [];
    const readiness: Readiness = () => {
      throw new Error('readiness broke');
    };
    const r = await rig(t, true, -1, { readiness, errors });
    r.ticks(QUIET);
    await r.send(rtcp(3));
    await sleep(50);
    r.ticks(1);
    t.same(r.got, [3], 'read anyway');
    t.match(String(errors[0]), /readiness broke/);
  });

  t.test('a closed socket leaves the ticker', async (t) => {
    const r = await rig(t);
    t.equal(r.ticker.size, 1, 'one job for the quiet sockets');
    r.rx.close();
    await until(() => r.ticker.size === 0, 'the job removed with the last socket');
    r.ticks(QUIET + 2); // nothing to read: no throw
  });
});
