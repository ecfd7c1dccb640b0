/**
 * Datagrams read in batches (media/udpReceive.ts, native/watch.c, native/udp.c) on real loopback sockets:
 * every datagram from two senders arrives once, in each sender's order, with its bytes and its sender's
 * `[address, port]` (the same array while the sender does not change; IPv6 too); node:dgram's 'message' events
 * stop; a datagram longer than a slot is dropped and counted and the next arrives; Buffers a handler keeps keep
 * their bytes while hundreds more arrive (no slab is written twice); a handler that throws is reported and the
 * next datagram still arrives; a datagram's handler sees how long it waited in its socket (the kernel's arrival
 * time to the read); one poll() tells which of several sockets have a datagram waiting (`watchesReadable`);
 * close releases the duplicate fd and the port; without the add-on nothing
 * changes; the add-on's argument checks throw instead of crashing. TurnEnd's hold/release: sends scheduled in a
 * batch run at its end, without a deferred run.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import t, { type Test } from 'tap';
import { bound } from '../../helpers/loopbackUdp.js';
import { batchBinding } from '../../../src/media/udpBatch.js';
import {
  receiveBinding,
  receiveCounts,
  receiveInBatches,
  receiveWaits,
  SLOT_BYTES,
} from '../../../src/media/udpReceive.js';
import { TurnEnd } from '../../../src/media/turnEnd.js';
import type { NativeSrtpBinding, NativeWatch } from '../../../src/media/srtp/nativeSrtp.js';
import { NATIVE_SKIP } from './srtp/impls.js';

const native = batchBinding({}) as NativeSrtpBinding;
/** Int32 words of `meta` per datagram (native/udp.h UDP_RECV_META_WORDS). */
const META_WORDS = 9;

interface Got {
  data: Buffer;
  addr: readonly [string, number];
}

function datagram(sender: number, i: number, length = 40 + ((i * 13) % 900)): Buffer {
  const b = Buffer.alloc(length, (sender * 31 + i) & 0xff);
  b.writeUInt16BE(sender, 0);
  b.writeUInt32BE(i, 2);
  return b;
}

/** Batches for `s` with a handler that takes every datagram synchronously and ignores it. */
function quietly(s: Socket, binding: NativeSrtpBinding | null = native): boolean {
  return receiveInBatches(
    s,
    () => false,
    () => undefined,
    binding,
  );
}

/** Waits (bounded: 5 s) until `cond()` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** How many of this process's fds refer to the socket `link` (a /proc fd link such as `socket:[123]`). */
function fdsOf(link: string): number {
  let n = 0;
  for (const f of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${f}`) === link) {
        n++;
      }
    } catch {
      // the directory's own fd, gone once read
    }
  }
  return n;
}

function fdOf(s: Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

async function receiving(
  t: Test,
  type: 'udp4' | 'udp6' = 'udp4',
): Promise<{ rx: Socket; got: Got[]; errors: unknown[]; messages: number[] }> {
  const rx = await bound(type);
  const got: Got[] = [];
  const errors: unknown[] = [];
  const messages = [0];
  rx.on('message', () => {
    messages[0] = (messages[0] ?? 0) + 1;
  });
  t.teardown(() => {
    try {
      rx.close();
    } catch {
      // closed by the test
    }
  });
  const on = receiveInBatches(
    rx,
    (data, addr) => {
      got.push({ data, addr });
      return false;
    },
    (e) => errors.push(e),
    native,
  );
  t.equal(on, true, 'the socket reads in batches');
  return { rx, got, errors, messages };
}

t.test('batched receive', { skip: NATIVE_SKIP }, async (t) => {
  t.test('two senders: every datagram once, in order, bytes and addresses right', async (t) => {
    const { rx, got, errors, messages } = await receiving(t);
    const a = await bound();
    const b = await bound();
    t.teardown(() => {
      a.close();
      b.close();
    });
    const port = rx.address().port;
    const n = 150; // a multiple of 25
    const before = receiveCounts.datagrams;
    for (let block = 0; block < n; block += 25) {
      // 25 from a, then 25 from b: runs from one sender and changes of sender
      for (const [sock, sender] of [
        [a, 1],
        [b, 2],
      ] as const) {
        for (let i = block; i < block + 25; i++) {
          sock.send(datagram(sender, i), port, '127.0.0.1');
        }
      }
      await until(() => got.length === (block + 25) * 2, `${(block + 25) * 2} datagrams`);
    }
    await until(() => got.length === 2 * n, 'every datagram');
    for (const [sender, sock] of [
      [1, a],
      [2, b],
    ] as const) {
      const mine = got.filter((g) => g.data.readUInt16BE(0) === sender);
      t.equal(mine.length, n, `sender ${sender}: all ${n} arrived`);
      t.same(
        mine.map((g) => g.data.readUInt32BE(2)),
        Array.from({ length: n }, (_, i) => i),
        `sender ${sender}: in its order`,
      );
      t.ok(
        mine.every((g, i) => g.data.equals(datagram(sender, i))),
        `sender ${sender}: every datagram's bytes`,
      );
      t.ok(
        mine.every((g) => g.addr[0] === '127.0.0.1' && g.addr[1] === sock.address().port),
        `sender ${sender}: its address and port`,
      );
    }
    // consecutive datagrams from one sender share one array; a change of sender gives another
    const runs = got.filter((g, i) => i > 0 && got[i - 1]?.addr[1] === g.addr[1]);
    t.ok(runs.length > 0, 'some datagrams came in a run from one sender');
    t.ok(
      got.every((g, i) => i === 0 || (got[i - 1]?.addr[1] === g.addr[1]) === (got[i - 1]?.addr === g.addr)),
      'the same array exactly while the sender is the same',
    );
    t.equal(messages[0], 0, "node:dgram's 'message' events stopped");
    t.equal(receiveCounts.datagrams - before, 2 * n, 'counted');
    t.same(errors, []);
  });

  t.test('IPv6: the address as inet_ntop writes it', async (t) => {
    const { rx, got } = await receiving(t, 'udp6');
    const tx = await bound('udp6');
    t.teardown(() => tx.close());
    tx.send(datagram(6, 0), rx.address().port, '::1');
    await until(() => got.length === 1, 'the datagram');
    t.same(got[0]?.addr, ['::1', tx.address().port]);
    t.ok(got[0]?.data.equals(datagram(6, 0)));
  });

  t.test('a datagram longer than a slot: dropped and counted; the next arrives', async (t) => {
    const { rx, got, errors } = await receiving(t);
    const tx = await bound();
    t.teardown(() => tx.close());
    const port = rx.address().port;
    const before = receiveCounts.truncated;
    tx.send(datagram(3, 0, SLOT_BYTES), port, '127.0.0.1'); // exactly a slot: whole
    tx.send(datagram(3, 1, SLOT_BYTES + 1), port, '127.0.0.1'); // one byte more: cut
    tx.send(datagram(3, 2, 100), port, '127.0.0.1');
    await until(() => got.length === 2, 'two datagrams');
    await new Promise((r) => setTimeout(r, 50));
    t.same(
      got.map((g) => [g.data.readUInt32BE(2), g.data.length]),
      [
        [0, SLOT_BYTES],
        [2, 100],
      ],
    );
    t.equal(receiveCounts.truncated - before, 1, 'the long one counted');
    t.same(errors, []);
  });

  t.test('kept Buffers keep their bytes while hundreds more arrive', async (t) => {
    const { rx, got } = await receiving(t);
    const tx = await bound();
    t.teardown(() => tx.close());
    const port = rx.address().port;
    const n = 600; // several slabs' worth
    for (let i = 0; i < n; i++) {
      tx.send(datagram(4, i, 1200), port, '127.0.0.1');
      if (i % 20 === 19) {
        await until(() => got.length === i + 1, `${i + 1} datagrams`);
      }
    }
    await until(() => got.length === n, 'every datagram');
    t.ok(
      got.every((g, i) => g.data.equals(datagram(4, i, 1200))),
      'every kept datagram still holds its own bytes',
    );
  });

  t.test(
    "a datagram's wait in its socket: the kernel's arrival time to the read, seen by its handler",
    async (t) => {
      const rx = await bound();
      const tx = await bound();
      t.teardown(() => {
        rx.close();
        tx.close();
      });
      const fd = fdOf(tx); // sent on synchronously below
      const seen: { i: number; waited: number }[] = [];
      receiveInBatches(
        rx,
        (data) => {
          seen.push({ i: data.readUInt32BE(2), waited: receiveWaits.current });
          return false;
        },
        () => undefined,
        native,
      );
      const port = rx.address().port;
      const overBefore = [...receiveWaits.over];
      receiveWaits.takeMax();
      // Sent synchronously (sendmmsg), then the loop is held for 60 ms: the datagram waits in rx's socket.
      t.equal(native.sendBatch(fd, '127.0.0.1', port, [datagram(6, 0)], 1), 1);
      const end = Date.now() + 60;
      while (Date.now() < end) {
        // the event loop is stalled
      }
      await until(() => seen.length === 1, 'the held datagram');
      // And one not held: read at once.
      t.equal(native.sendBatch(fd, '127.0.0.1', port, [datagram(6, 1)], 1), 1);
      await until(() => seen.length === 2, 'the second datagram');
      const [held, prompt] = seen as [{ i: number; waited: number }, { i: number; waited: number }];
      t.equal(held.i, 0);
      t.ok(held.waited >= 55_000 && held.waited < 5_000_000, `held: waited ${held.waited} µs (≥ 55 ms)`);
      t.ok(prompt.waited >= 0 && prompt.waited < held.waited, `prompt: waited ${prompt.waited} µs`);
      t.equal(receiveWaits.current, -1, 'outside a handler: unknown');
      t.ok(receiveWaits.takeMax() >= held.waited, 'the longest wait is kept until taken');
      t.equal(receiveWaits.takeMax(), 0, 'taking it starts the next period');
      t.equal((receiveWaits.over[0] ?? 0) - (overBefore[0] ?? 0), 1, 'counted over 5 ms');
      t.equal((receiveWaits.over[1] ?? 0) - (overBefore[1] ?? 0), 1, 'counted over 20 ms');
      t.equal((receiveWaits.over[2] ?? 0) - (overBefore[2] ?? 0), 0, 'not over 100 ms');
    },
  );

  t.test('a handler that throws: reported; the next datagram still arrives', async (t) => {
    const rx = await bound();
    const tx = await bound();
    t.teardown(() => {
      rx.close();
      tx.close();
    });
    const errors: unknown[] = [];
    const got: number[] = [];
    receiveInBatches(
      rx,
      (data) => {
        const i = data.readUInt32BE(2);
        if (i === 0) {
          throw new Error('handler broke');
        }
        got.push(i);
        return false;
      },
      (e) => errors.push(e),
      native,
    );
    tx.send(datagram(5, 0), rx.address().port, '127.0.0.1');
    tx.send(datagram(5, 1), rx.address().port, '127.0.0.1');
    await until(() => got.length === 1, 'the second datagram');
    t.same(got, [1]);
    t.equal(errors.length, 1);
    t.match(String(errors[0]), /handler broke/);
  });

  t.test(
    'a datagram that went to promises: their microtasks run before the next one is handed out',
    async (t) => {
      const order = async (goesAsync: boolean): Promise<string[]> => {
        const rx = await bound();
        const tx = await bound();
        t.teardown(() => {
          rx.close();
          tx.close();
        });
        const seen: string[] = [];
        receiveInBatches(
          rx,
          (data) => {
            const i = data.readUInt32BE(2);
            seen.push(`got ${i}`);
            queueMicrotask(() => seen.push(`micro ${i}`));
            return goesAsync;
          },
          () => undefined,
          native,
        );
        for (let i = 0; i < 4; i++) {
          tx.send(datagram(8, i), rx.address().port, '127.0.0.1'); // all four wait before the first read
        }
        await until(() => seen.length === 8, 'four datagrams and their microtasks');
        return seen;
      };
      t.same(
        await order(true),
        ['got 0', 'micro 0', 'got 1', 'micro 1', 'got 2', 'micro 2', 'got 3', 'micro 3'],
        'true: each one after the microtasks of the one before, as node:dgram',
      );
      const batched = await order(false);
      t.equal(batched.indexOf('got 1') < batched.indexOf('micro 0'), true, 'false: the batch goes on first');
    },
  );

  t.test('close: the duplicate fd closed and the port free again', async (t) => {
    const rx = await bound();
    const port = rx.address().port;
    const link = readlinkSync(`/proc/self/fd/${fdOf(rx)}`);
    t.match(link, /^socket:\[\d+\]$/);
    t.equal(fdsOf(link), 1, 'one fd before');
    t.equal(quietly(rx), true);
    t.equal(fdsOf(link), 2, 'the socket and its duplicate');
    t.equal(quietly(rx), true, 'a second call: already on, no second watch');
    t.equal(fdsOf(link), 2, 'still one duplicate');
    rx.close();
    await once(rx, 'close');
    await until(() => fdsOf(link) === 0, 'both fds closed');
    const again = createSocket({ type: 'udp4', reuseAddr: false });
    t.teardown(() => again.close());
    again.bind(port, '127.0.0.1');
    await once(again, 'listening');
    t.equal(again.address().port, port, 'the port binds again');
  });

  t.test('watchesReadable: one poll() says which sockets have a datagram waiting', async (t) => {
    const a = await bound();
    const b = await bound();
    const c = await bound();
    const tx = await bound();
    t.teardown(() => {
      for (const s of [a, b, c, tx]) {
        s.close();
      }
    });
    const [wa, wb, wc] = [a, b, c].map((s) => {
      const w = native.watchReadable(fdOf(s), () => false);
      t.equal(native.watchPause(w, true), true); // read only when asked, as a quiet socket
      return w;
    }) as [NativeWatch, NativeWatch, NativeWatch];
    t.teardown(() => {
      for (const w of [wa, wb, wc]) {
        native.unwatch(w);
      }
    });
    const out = new Uint8Array(4).fill(9);
    t.equal(native.watchesReadable([wa, wb, wc], 3, out), 0, 'nothing waiting: 0');
    t.same([...out], [0, 0, 0, 9], 'each 0; past count untouched');
    t.equal(native.sendBatch(fdOf(tx), '127.0.0.1', b.address().port, [datagram(1, 0)], 1), 1);
    t.equal(native.watchesReadable([wa, wb, wc], 3, out), 1, 'one waiting');
    t.same([...out.subarray(0, 3)], [0, 1, 0], 'b, which has it');
    t.equal(native.watchesReadable([wa, wb, wc], 2, out), 1, 'a count below the list: the first two');
    native.unwatch(wb);
    t.equal(native.watchesReadable([wa, wb, wc], 3, out), 0, 'a stopped watch: 0');
    t.equal(native.watchesReadable([], 0, out), 0, 'none asked: 0');
  });

  t.test("the add-on's argument checks throw, never crash", async (t) => {
    const rx = await bound();
    t.teardown(() => rx.close());
    const fd = fdOf(rx);
    const w = native.watchReadable(fd, () => false);
    t.teardown(() => {
      native.unwatch(w);
    });
    const meta = new Int32Array(META_WORDS * 4);
    const buf = Buffer.alloc(4 * 64);
    const rows: [string, () => unknown, RegExp][] = [
      ['not a watch', () => native.recvBatch({} as never, buf, 0, 1, 64, meta), /watch must be made/],
      ['buf not bytes', () => native.recvBatch(w, 'x' as never, 0, 1, 64, meta), /buf must be a Uint8Array/],
      ['meta not Int32', () => native.recvBatch(w, buf, 0, 1, 64, new Uint8Array(32) as never), /Int32Array/],
      ['slots 0', () => native.recvBatch(w, buf, 0, 0, 64, meta), /slots must be/],
      [
        'slots 65',
        () => native.recvBatch(w, buf, 0, 65, 4, new Int32Array(META_WORDS * 65)),
        /slots must be/,
      ],
      ['past buf', () => native.recvBatch(w, buf, 200, 1, 64, meta), /too short/],
      ['meta short', () => native.recvBatch(w, Buffer.alloc(640), 0, 5, 64, meta), /meta is too short/],
      ['bad fd', () => native.watchReadable(-1, () => false), /fd must be/],
      ['closed fd', () => native.watchReadable(1 << 30, () => false), /cannot be duplicated/],
      ['no callback', () => native.watchReadable(fd, 1 as never), /callback must be a function/],
      ['metaAddress past end', () => native.metaAddress(meta, 4), /past meta's end/],
      ['watches not an array', () => native.watchesReadable(w as never, 1, new Uint8Array(1)), /an array/],
      [
        'a watch that is not one',
        () => native.watchesReadable([{} as never], 1, new Uint8Array(1)),
        /watch must be made/,
      ],
      ['out not bytes', () => native.watchesReadable([w], 1, [0] as never), /out must be a Uint8Array/],
      [
        'count past the list',
        () => native.watchesReadable([w], 2, new Uint8Array(2)),
        /count must be at most/,
      ],
      ['count past out', () => native.watchesReadable([w, w], 2, new Uint8Array(1)), /count must be at most/],
    ];
    for (const [name, f, re] of rows) {
      t.throws(f, re, name);
    }
    t.equal(native.recvBatch(w, buf, 0, 4, 64, meta), 0, 'nothing waiting: 0');
    t.equal(native.metaAddress(new Int32Array(META_WORDS), 0), undefined, 'no family: undefined');
    native.unwatch(w);
    native.unwatch(w);
    t.equal(native.recvBatch(w, buf, 0, 4, 64, meta), -9, 'after unwatch: -EBADF');
  });
});

t.test('without the add-on: false, node:dgram goes on', async (t) => {
  const rx = await bound();
  const tx = await bound();
  t.teardown(() => {
    rx.close();
    tx.close();
  });
  t.equal(receiveBinding({ SFU_NATIVE: '0' }), null, 'SFU_NATIVE=0: no binding');
  t.equal(receiveBinding({ SFU_RECV_BATCH: '0' }), null, 'SFU_RECV_BATCH=0: no binding');
  t.equal(receiveBinding({}) === null, NATIVE_SKIP !== false, 'otherwise the add-on, when built');
  t.equal(quietly(rx, null), false);
  const arrived = once(rx, 'message');
  tx.send(datagram(7, 0), rx.address().port, '127.0.0.1');
  const [msg] = (await arrived) as [Buffer];
  t.ok(msg.equals(datagram(7, 0)), "the datagram came as a 'message' event");
});

t.test('TurnEnd hold/release: a batch is its own turn', async (t) => {
  const deferred: (() => void)[] = [];
  const te = new TurnEnd(
    (fn) => deferred.push(fn),
    () => 0,
  );
  const ran: string[] = [];
  te.hold();
  te.schedule('subscribers', () => ran.push('s'));
  te.schedule('trunk', () => ran.push('t'));
  t.same(ran, [], 'nothing runs inside the batch');
  t.equal(deferred.length, 0, 'no deferred run is scheduled while held');
  te.hold();
  te.release();
  t.same(ran, [], 'an inner release does not run');
  te.release();
  t.same(ran, ['t', 's'], 'the outer release runs them, trunk first');
  te.release(); // unmatched: harmless
  te.schedule('subscribers', () => ran.push('after'));
  t.equal(deferred.length, 1, 'outside a batch the turn end is deferred again');
  deferred[0]?.();
  t.same(ran, ['t', 's', 'after']);
});
