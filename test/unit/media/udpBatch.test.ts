/**
 * Batched UDP sends (media/udpBatch.ts, native/udp.c) on real loopback sockets: the native path and the
 * `socket.send` path deliver the same datagrams in the same order (batches past the 64 of one system call
 * included); a batch the kernel takes in part has the rest sent by `socket.send` in order; a socket with sends
 * queued in libuv, an address the native side cannot parse, or no add-on: every datagram by `socket.send`; the
 * add-on's argument checks throw instead of crashing.
 */
import { createSocket, type Socket } from 'node:dgram';
import { bound, collect } from '../../helpers/loopbackUdp.js';
import t, { type Test } from 'tap';
import type { NativeSrtpBinding } from '../../../src/media/srtp/nativeSrtp.js';
import { batchBinding, batchCounts, UdpBatcher, type BatchSocket } from '../../../src/media/udpBatch.js';
import { NATIVE_SKIP } from './srtp/impls.js';

function datagrams(n: number, seed: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => {
    const b = Buffer.alloc(20 + ((i * 37 + seed) % 280)); // small: 130 of them fit a default receive buffer
    b.writeUInt32BE(i, 0);
    b.fill((i + seed) & 0xff, 4);
    return b;
  });
}

const native = batchBinding({});

async function roundTrip(
  t: Test,
  batcher: UdpBatcher,
  n: number,
): Promise<{ got: Buffer[]; sent: Buffer[]; direct: number }> {
  const tx = await bound();
  const rx = await bound();
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const sent = datagrams(n, n);
  const arriving = collect(rx, n);
  const direct = batcher.send(tx, '127.0.0.1', rx.address().port, sent, n);
  return { got: await arriving, sent, direct };
}

for (const n of [1, 3, 64, 65, 130]) {
  t.test(`${n} datagram(s): the native path and socket.send deliver the same bytes in order`, async (t) => {
    const viaSocket = await roundTrip(t, new UdpBatcher(null), n);
    t.equal(viaSocket.direct, 0, 'no add-on: none in a batch call');
    t.same(viaSocket.got, viaSocket.sent, 'socket.send: every datagram, in order');
    if (NATIVE_SKIP !== false) {
      t.comment(`native path not run: ${NATIVE_SKIP}`);
      return;
    }
    const before = batchCounts.sendmmsg;
    const viaNative = await roundTrip(t, new UdpBatcher(native), n);
    t.equal(viaNative.direct, n, 'native: all of them in sendmmsg calls');
    t.equal(batchCounts.sendmmsg - before, n, 'counted as sendmmsg');
    t.same(viaNative.got, viaNative.sent, 'native: every datagram, in order');
    t.same(viaNative.got, viaSocket.got, 'the same datagrams either way');
  });
}

t.test('slices (offLen): the native path and socket.send deliver the same bytes in order', async (t) => {
  // 70 slices of two buffers, interleaved in runs (the native side reads a buffer once per run): past one
  // system call's 64.
  const a = Buffer.alloc(4096);
  const b = Buffer.alloc(4096);
  for (let i = 0; i < 4096; i++) {
    a[i] = i & 0xff;
    b[i] = (i * 7 + 3) & 0xff;
  }
  const list: Buffer[] = [];
  const offLen = new Int32Array(2 * 70);
  const want: Buffer[] = [];
  for (let i = 0; i < 70; i++) {
    const buf = Math.floor(i / 3) % 2 === 0 ? a : b;
    const off = (i * 53) % 3000;
    const len = 1 + ((i * 29) % 120);
    list.push(buf);
    offLen[2 * i] = off;
    offLen[2 * i + 1] = len;
    want.push(Buffer.from(buf.subarray(off, off + len)));
  }
  const run = async (batcher: UdpBatcher): Promise<{ got: Buffer[]; direct: number }> => {
    const tx = await bound();
    const rx = await bound();
    t.teardown(() => {
      tx.close();
      rx.close();
    });
    const arriving = collect(rx, 70);
    const direct = batcher.send(tx, '127.0.0.1', rx.address().port, list, 70, true, offLen);
    return { got: await arriving, direct };
  };
  const viaSocket = await run(new UdpBatcher(null));
  t.same(viaSocket.got, want, 'socket.send: each slice, in order');
  if (NATIVE_SKIP !== false) {
    t.comment(`native path not run: ${NATIVE_SKIP}`);
    return;
  }
  const viaNative = await run(new UdpBatcher(native));
  t.equal(viaNative.direct, 70, 'native: all in sendmmsg calls');
  t.same(viaNative.got, want, 'native: each slice, in order');
});

t.test('IPv6 loopback through the native path', { skip: NATIVE_SKIP }, async (t) => {
  let tx: Socket;
  let rx: Socket;
  try {
    tx = await bound('udp6');
    rx = await bound('udp6');
  } catch (e) {
    t.comment(`no IPv6 loopback here: ${String(e)}`);
    return;
  }
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const sent = datagrams(5, 1);
  const arriving = collect(rx, 5);
  t.equal(new UdpBatcher(native).send(tx, '::1', rx.address().port, sent, 5), 5);
  t.same(await arriving, sent);
});

t.test('a batch the kernel takes in part: the rest by socket.send, in order', async (t) => {
  // A binding standing for the kernel taking the first 3 of each batch (as sendmmsg does with a full buffer).
  const calls: number[] = [];
  const partial = {
    sendBatch: (_fd: number, address: string, port: number, list: readonly Uint8Array[], count: number) => {
      calls.push(count);
      const rx = createSocket('udp4');
      for (let i = 0; i < Math.min(3, count); i++) {
        rx.send(list[i] as Buffer, port, address);
      }
      rx.unref();
      setTimeout(() => rx.close(), 100);
      return Math.min(3, count);
    },
  } as unknown as NativeSrtpBinding;
  const { got, sent, direct } = await roundTrip(t, new UdpBatcher(partial), 10);
  t.same(calls, [10], 'one batch call');
  t.equal(direct, 3, 'three in it');
  t.same(
    got.map((b) => b.readUInt32BE(0)).sort((a, b) => a - b),
    sent.map((b) => b.readUInt32BE(0)),
    'all ten arrived',
  );
  t.same(
    got.filter((b) => b.readUInt32BE(0) >= 3),
    sent.slice(3),
    'the seven sent by socket.send, in order',
  );
});

t.test(
  'transient datagrams: what falls back to socket.send is a copy (the memory is reused at once)',
  async (t) => {
    // The kernel takes none (a full buffer): all ten go to socket.send, which sends them after this returns.
    const full = { sendBatch: () => -11 } as unknown as NativeSrtpBinding;
    for (const transient of [true, false]) {
      const tx = await bound();
      const rx = await bound();
      const sent = datagrams(10, 7);
      const original = sent.map((b) => Buffer.from(b));
      const arriving = collect(rx, 10);
      new UdpBatcher(full).send(tx, '127.0.0.1', rx.address().port, sent, 10, transient);
      for (const b of sent) {
        b.fill(0xee); // the slab is reused as soon as the send returns
      }
      const got = await arriving;
      tx.close();
      rx.close();
      if (transient) {
        t.same(got, original, 'transient: the bytes at the time of the send arrived');
      } else {
        t.ok(
          got.some((b) => b.every((x) => x === 0xee)),
          'not transient: socket.send kept the buffers themselves (why the copy is needed)',
        );
      }
    }
  },
);

t.test('queued sends in libuv, a bad address, no fd: socket.send for all', async (t) => {
  const calls: string[] = [];
  const recording = {
    sendBatch: (_fd: number, address: string) => {
      calls.push(address);
      return -22; // EINVAL, as udp.c answers an address that is not a literal
    },
  } as unknown as NativeSrtpBinding;
  const sent: Buffer[] = [];
  const state = Symbol('state symbol');
  const fake = (queued: number, fd: number | undefined): BatchSocket =>
    ({
      [state]: { handle: { fd, getSendQueueCount: () => queued } },
      send: (m: Buffer) => sent.push(m),
    }) as unknown as BatchSocket;
  const b = new UdpBatcher(recording);
  const list = datagrams(4, 2);
  t.equal(b.send(fake(1, 7), '127.0.0.1', 9, list, 4), 0, 'queued in libuv: not batched');
  t.same(calls, [], 'the add-on not called while libuv has sends queued');
  t.equal(b.send(fake(0, undefined), '127.0.0.1', 9, list, 4), 0, 'no fd: not batched');
  t.same(calls, []);
  const bad = fake(0, 7);
  t.equal(b.send(bad, 'not-an-ip', 9, list, 4), 0, 'the add-on refused the address');
  t.same(calls, ['not-an-ip'], 'asked once');
  b.send(bad, 'not-an-ip', 9, list, 4);
  t.same(calls, ['not-an-ip'], 'not asked again for that socket');
  t.equal(sent.length, 16, 'every datagram went by socket.send');
  t.same(sent.slice(12), list, 'in order');
  t.equal(b.send({ send: () => t.fail('nothing to send') }, '127.0.0.1', 9, list, 0), 0, 'an empty batch');
});

t.test('the add-on checks its arguments', { skip: NATIVE_SKIP }, async (t) => {
  const s = await bound();
  t.teardown(() => {
    s.close();
  });
  const b = native as NativeSrtpBinding;
  const one = [Buffer.from([1])];
  t.throws(() => b.sendBatch(-1, '127.0.0.1', 9, one, 1), RangeError);
  t.throws(() => b.sendBatch(3, '127.0.0.1', 0, one, 1), RangeError);
  t.throws(() => b.sendBatch(3, '127.0.0.1', 70000, one, 1), RangeError);
  t.throws(() => b.sendBatch(3, '127.0.0.1', 9, one, 2), RangeError, 'count past the list');
  t.throws(() => b.sendBatch(3, 42 as unknown as string, 9, one, 1), TypeError);
  t.throws(() => b.sendBatch(3, 'x'.repeat(100), 9, one, 1), RangeError);
  t.throws(() => b.sendBatch(3, '127.0.0.1', 9, 'x' as unknown as Uint8Array[], 1), TypeError);
  t.throws(() => b.sendBatch(3, '127.0.0.1', 9, [{}] as unknown as Uint8Array[], 1), TypeError);
  const slab = Buffer.alloc(32);
  t.throws(
    () => b.sendBatch(3, '127.0.0.1', 9, [slab], 1, Int32Array.of(30, 4)),
    RangeError,
    'a slice past its buffer',
  );
  t.throws(
    () => b.sendBatch(3, '127.0.0.1', 9, [slab], 1, Int32Array.of(-1, 4)),
    RangeError,
    'a negative offset',
  );
  t.throws(
    () => b.sendBatch(3, '127.0.0.1', 9, [slab], 1, Int32Array.of(0, -4)),
    RangeError,
    'a negative length',
  );
  t.throws(
    () => b.sendBatch(3, '127.0.0.1', 9, [slab, slab], 2, Int32Array.of(0, 4)),
    RangeError,
    'offLen short',
  );
  t.throws(
    () => b.sendBatch(3, '127.0.0.1', 9, [slab], 1, [0, 4] as unknown as Int32Array),
    TypeError,
    'offLen not an Int32Array',
  );
  t.equal(b.sendBatch(3, 'example.org', 9, one, 1), -22, 'not a literal: -EINVAL');
  t.ok(b.sendBatch(100_000, '127.0.0.1', 9, one, 1) < 0, 'a closed fd: a negative errno, no crash');
  t.equal(b.sendBatch(3, '127.0.0.1', 9, one, 0), 0, 'nothing to send');
});

t.test('canBatch: a bound node:dgram socket with the add-on, nothing else', async (t) => {
  const s = await bound();
  t.teardown(() => {
    s.close();
  });
  t.equal(new UdpBatcher(null).canBatch(s), false, 'no add-on');
  const fake = { send: () => undefined };
  t.equal(new UdpBatcher(native).canBatch(fake), false, 'not a node:dgram socket');
  if (NATIVE_SKIP !== false) {
    return;
  }
  const b = new UdpBatcher(native);
  t.equal(b.canBatch(s), true, 'a bound socket');
  s.on('error', () => undefined); // node:dgram's own refusal of the same address, on the socket.send path
  b.send(s, '::1', 9, [Buffer.from([1])], 1); // IPv6 on an IPv4 socket: the kernel refuses it
  t.equal(b.canBatch(s), false, 'not after the add-on failed on it');
});

t.test('SFU_NATIVE=0 turns batching off', async (t) => {
  t.equal(batchBinding({ SFU_NATIVE: '0' }), null);
  t.equal(new UdpBatcher(batchBinding({ SFU_NATIVE: '0' })).native, false);
});
