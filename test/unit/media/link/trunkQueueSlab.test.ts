/**
 * The trunk queue's flush with the SFU's own cipher and a real UDP socket (media/link/trunkQueue.ts): with the
 * add-on the transport is resolved once per flush and every packet encrypted into the flush's slab — the
 * datagrams that arrive are byte for byte those `prepareSrtp` makes of each packet (both SRTP profiles, across
 * the sequence wrap), in order, counted on the transport and the pair; the pair's address is read once per
 * flush (per packet without the add-on, where `prepareSrtpAt` decides each).
 */
import type { Socket } from 'node:dgram';
import t from 'tap';
import type { RTCDtlsTransport } from 'werift';
import { absSendTimeValue } from '../../../../src/media/link/absSendTime.js';
import { TrunkHeaderWriter } from '../../../../src/media/link/trunkHeader.js';
import { TrunkQueue, type TrunkWire } from '../../../../src/media/link/trunkQueue.js';
import { MediaCounters } from '../../../../src/media/mediaMetrics.js';
import { prepareSrtp, SrtpRoute } from '../../../../src/media/srtpSend.js';
import { batchBinding } from '../../../../src/media/udpBatch.js';
import { waitFor } from '../../../../harness/stack.js';
import { boundFor, keptReceiver } from '../../../helpers/loopbackUdp.js';

const native = batchBinding() !== null;

function transport(socket: Socket, port: number, profile: number) {
  const candidate = { host: '127.0.0.1', port };
  let reads = 0;
  const pair = {
    get remoteCandidate() {
      reads++;
      return candidate;
    },
    protocol: { transport: { type: 'udp', closed: false, socket } },
    packetsSent: 0,
    bytesSent: 0,
  };
  const dtls = {
    state: 'connected',
    srtp: {
      encrypt: () => {
        throw new Error('werift encrypt: not expected');
      },
      localContext: {
        masterKey: Buffer.alloc(16, 0x21),
        masterSalt: Buffer.alloc(profile === 7 ? 12 : 14, 0x43),
        profile,
      },
    },
    iceTransport: { connection: { nominated: pair, canSendApplicationData: () => true } },
    bytesSent: 0,
    packetsSent: 0,
  };
  return { dtls, pair, reads: () => reads };
}

for (const [name, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', 1],
  ['AEAD_AES_128_GCM', 7],
] as const) {
  t.test(`${name}: one flush, resolved once, the datagrams prepareSrtp makes`, async (t) => {
    const tx = await boundFor(t);
    const { port, got } = await keptReceiver(t);
    const live = transport(tx, port, profile);
    const twin = transport(tx, port, profile); // the reference: the same keys, its own rollover state
    const header = new TrunkHeaderWriter();
    header.setExtensionIds(4, undefined);
    const wire: TrunkWire = {
      counters: new MediaCounters(),
      now: () => 5_000,
      transport: () => live.dtls as unknown as RTCDtlsTransport,
      header: () => header,
      sent: () => undefined,
    };
    const due: (() => void)[] = [];
    const q = new TrunkQueue(wire, (fn) => due.push(fn));
    const seqs = [0xfffd, 0xfffe, 0xffff, 0, 1, 2];
    const payload = (seq: number) => Buffer.alloc(100 + (seq % 5) * 40, seq & 0xff);
    for (const seq of seqs) {
      q.push('video', 0x7000_0003, 96, seq, seq * 3000, seq === 2, false, undefined, payload(seq));
    }
    const refHeader = new TrunkHeaderWriter();
    refHeader.setExtensionIds(4, undefined);
    const expected = seqs.map((seq) => {
      const h = refHeader.write(
        0x7000_0003,
        96,
        seq,
        seq * 3000,
        seq === 2,
        false,
        absSendTimeValue(5_000),
        undefined,
      );
      return prepareSrtp(
        twin.dtls as unknown as RTCDtlsTransport,
        payload(seq),
        h,
        new SrtpRoute(),
      ) as Buffer;
    });
    const readsBefore = live.reads();
    due.shift()!();
    await waitFor(() => got.length === seqs.length, 5000, 'the flush arrives');
    t.same(got, expected, 'byte for byte, in order');
    t.equal(
      live.reads() - readsBefore,
      native ? 1 : seqs.length + 1,
      native ? 'resolved once' : 'no slab: resolved per packet (and once for the flush)',
    );
    const total = got.reduce((a, d) => a + d.length, 0);
    t.same([live.dtls.packetsSent, live.dtls.bytesSent], [seqs.length, total], "the transport's statistics");
    t.same([live.pair.packetsSent, live.pair.bytesSent], [seqs.length, total], "the pair's");
    t.equal(wire.counters.sends.direct, seqs.length, 'counted direct');
  });
}
