/**
 * Segmented sends (UDP GSO, native/udp.c, media/udpBatch.ts) on real sockets: a run of equal-length datagrams
 * to one address (the last of it may be shorter) leaves as one message and arrives as the same datagrams, in
 * order, among datagrams that are not segmented (lengths that differ, longer than UDP_GSO_MAX_DATAGRAM); with
 * segmenting off nothing is segmented; and where the kernel refuses a segmented message (a network namespace
 * whose loopback MTU is below the datagrams), every datagram still arrives, in order, and that socket is not
 * segmented again.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { bound, collect } from '../../helpers/loopbackUdp.js';
import { batchBinding, gsoCounts, gsoWanted, UdpBatcher } from '../../../src/media/udpBatch.js';
import { NATIVE_SKIP } from './srtp/impls.js';

const native = batchBinding({});

t.test('on unless SFU_UDP_GSO=0; counters read as zeros without the add-on', async (t) => {
  t.equal(gsoWanted({}), true);
  t.equal(gsoWanted({ SFU_UDP_GSO: '0' }), false);
  t.equal(gsoWanted({ SFU_UDP_GSO: '1' }), true);
  t.same(gsoCounts(null), { messages: 0, datagrams: 0, refused: 0 });
});

/** 9 of 1,100 bytes then one of 700 (one run), 3 of differing lengths, 2 of 1,450 (too long to segment), 4 of 300. */
function mixed(): Buffer[] {
  const lengths = [...Array<number>(9).fill(1100), 700, 500, 510, 520, 1450, 1450, 300, 300, 300, 300];
  return lengths.map((n, i) => {
    const b = Buffer.alloc(n, i);
    b.writeUInt16BE(i, 0);
    return b;
  });
}

/** Whether the add-on's path can run here; when not, says why in a comment. */
function nativeHere(t: Test): boolean {
  if (NATIVE_SKIP !== false || native === null) {
    t.comment(`native path not run: ${String(NATIVE_SKIP)}`);
    return false;
  }
  return true;
}

/**
 * Sends `mixed()` through a batcher with segmenting on or off between two loopback sockets of `type`: what was
 * sent, what arrived, how many the batcher sent natively, and the segmented-send counters before and after.
 */
async function sendMixed(t: Test, gso: boolean, type: 'udp4' | 'udp6' = 'udp4') {
  const tx = await bound(type);
  const rx = await bound(type);
  t.teardown(() => {
    tx.close();
    rx.close();
  });
  const sent = mixed();
  const before = gsoCounts(native);
  const arriving = collect(rx, sent.length);
  const address = type === 'udp4' ? '127.0.0.1' : '::1';
  const direct = new UdpBatcher(native, gso).send(tx, address, rx.address().port, sent, sent.length);
  return { sent, got: await arriving, direct, before, after: gsoCounts(native) };
}

t.test('runs of one length leave segmented and arrive as the same datagrams, in order', async (t) => {
  if (!nativeHere(t)) {
    return;
  }
  const { sent, got, direct, before, after } = await sendMixed(t, true);
  t.equal(direct, sent.length);
  t.same(got, sent, 'every datagram, byte for byte, in order');
  // Runs: 9 × 1100 + the 700 (10 datagrams), 2 × 1450 would be a run but are too long, 4 × 300: two messages.
  t.equal(after.messages - before.messages, 2, 'two segmented messages');
  t.equal(after.datagrams - before.datagrams, 14, 'carrying 10 + 4 datagrams');
  t.equal(after.refused - before.refused, 0, 'none refused on loopback');
});

t.test('with segmenting off, the same datagrams one message each', async (t) => {
  if (!nativeHere(t)) {
    return;
  }
  const { sent, got, before, after } = await sendMixed(t, false);
  t.same(got, sent, 'every datagram, in order');
  t.same(after, before, 'nothing segmented');
});

t.test('IPv6: segmented the same way', async (t) => {
  if (!nativeHere(t)) {
    return;
  }
  const { sent, got, before, after } = await sendMixed(t, true, 'udp6');
  t.same(got, sent, 'every datagram, in order');
  t.equal(after.datagrams - before.datagrams, 14, 'the same runs segmented');
});

t.test(
  'a path that refuses segmenting: everything still arrives, in order; that socket not segmented again',
  async (t) => {
    if (!nativeHere(t)) {
      return;
    }
    const fixture = fileURLToPath(new URL('../../fixtures/udp/gsoRefusal.ts', import.meta.url));
    // A network namespace of the child's own (gone when it exits): loopback up, its MTU below the datagrams.
    const out = execFileSync(
      'unshare',
      [
        '--net',
        'sh',
        '-c',
        'ip link set lo mtu 1000 up && exec "$0" --import @tapjs/typescript/import "$1"',
        process.execPath,
        fixture,
      ],
      { timeout: 60_000, env: { ...process.env, SFU_NATIVE: '1' } },
    ).toString();
    const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      arrived: number[][];
      counts: { messages: number; datagrams: number; refused: number }[];
      direct: number[];
    };
    const expect = (seed: number) => [
      200 * 1000 + seed,
      ...Array.from({ length: 9 }, (_, i) => 1100 * 1000 + ((seed + i + 1) & 0xff)),
    ];
    t.same(r.arrived, [expect(10), expect(40)], 'both batches: 200 bytes, then nine of 1,100, in order');
    t.same(r.direct, [10, 10], 'both sent by the add-on (the refused run again unsegmented at once)');
    const [start, first, second] = r.counts as [
      (typeof r.counts)[0],
      (typeof r.counts)[0],
      (typeof r.counts)[0],
    ];
    t.equal(first.refused - start.refused, 1, 'the first batch: segmenting refused once');
    t.equal(first.messages - start.messages, 0, 'no segmented message went');
    t.same(second, first, 'the second batch: not segmented again (no new refusal)');
  },
);
