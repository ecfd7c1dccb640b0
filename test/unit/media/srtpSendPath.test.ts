/**
 * media/srtpSendPath: a sender's send path kept from packet to packet sends what `sendSrtpPacket` sends — the
 * same datagrams (both SRTP profiles, across the sequence wrap), to the same address, counted alike — and looks
 * again whenever what it kept stops holding: another nominated pair, new SRTP keys, the transport's socket
 * closed, consent gone, DTLS no longer connected, another transport. Real UDP sockets on loopback; the DTLS
 * transport is a fake of werift's shape with the SFU's own cipher keys (as srtpSend.test.ts). Without the add-on
 * (SFU_NATIVE=0, which CI also runs) every packet takes `sendSrtpPacket`, with the same results.
 */
import type { Socket } from 'node:dgram';
import t from 'tap';
import type { RTCDtlsTransport } from 'werift';
import { SentPacketRing, type SentPacket } from '../../../src/media/sentPackets.js';
import { sendSrtpPacket, srtpTurnQueue } from '../../../src/media/srtpSend.js';
import { SrtpSendPath } from '../../../src/media/srtpSendPath.js';
import { batchBinding } from '../../../src/media/udpBatch.js';
import { WireRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { waitFor } from '../../../harness/stack.js';
import { boundFor, keptReceiver } from '../../helpers/loopbackUdp.js';

const native = batchBinding() !== null;

interface Fake {
  dtls: RTCDtlsTransport;
  d: { state: string; srtp: object; bytesSent: number; packetsSent: number };
  conn: { nominated: object; canSendApplicationData: () => boolean };
  consent: { ok: boolean };
}

function pairTo(socket: Socket, port: number) {
  return {
    remoteCandidate: { host: '127.0.0.1', port },
    protocol: { transport: { type: 'udp', closed: false, socket } },
    packetsSent: 0,
    bytesSent: 0,
  };
}

function keys(profile: number, fill: number) {
  return {
    encrypt: () => {
      throw new Error('werift encrypt: not expected');
    },
    localContext: {
      masterKey: Buffer.alloc(16, fill),
      masterSalt: Buffer.alloc(profile === 7 ? 12 : 14, 3),
      profile,
    },
  };
}

function fake(socket: Socket, port: number, profile: number): Fake {
  const consent = { ok: true };
  const conn = { nominated: pairTo(socket, port), canSendApplicationData: () => consent.ok };
  const d = {
    state: 'connected',
    srtp: keys(profile, 7),
    iceTransport: { connection: conn },
    bytesSent: 0,
    packetsSent: 0,
    sendRtp: () => Promise.resolve(0),
  };
  return { dtls: d as unknown as RTCDtlsTransport, d, conn, consent };
}

const ring = new SentPacketRing(64);

function built(seq: number, ssrc = 0x9abc_def0): SentPacket {
  const h = new WireRtpHeader({
    ssrc,
    payloadType: 96,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * 3000) >>> 0,
    marker: seq % 3 === 0,
    extensions: [{ id: 3, payload: Uint8Array.of(seq & 0xff, 2, 3) }],
  });
  const bytes = h.serialize();
  const payload = Buffer.alloc(40 + (seq % 9), seq & 0xff);
  const p = ring.slot(seq & 0xffff, bytes.length + payload.length);
  bytes.copy(p.buf, p.off);
  payload.copy(p.buf, p.off + bytes.length);
  p.headerLength = bytes.length;
  p.length = bytes.length + payload.length;
  return p;
}

for (const [name, profile] of [
  ['AES_CM_128_HMAC_SHA1_80', 1],
  ['AEAD_AES_128_GCM', 7],
] as const) {
  t.test(`${name}: the datagrams, address and statistics of sendSrtpPacket`, async (t) => {
    const tx = await boundFor(t);
    const viaPath = await keptReceiver(t);
    const viaSend = await keptReceiver(t);
    const a = fake(tx, viaPath.port, profile);
    const b = fake(tx, viaSend.port, profile); // the same keys: its own rollover state
    const path = new SrtpSendPath();
    const seqs = [0xfffc, 0xfffd, 0xfffe, 0xffff, 0x10000, 0x10001, 0x10002];
    // Two SSRCs through one path, interleaved: the first across the wrap, the second a quarter cycle away (it
    // never wraps). The path keeps one SSRC's rollover state at a time and must take the other's whenever the
    // SSRC changes — one state for both would give the second ROC 1 after the first's 0xfffc.
    const sent: [number, number][] = [];
    for (const seq of seqs) {
      sent.push([seq, 0x9abc_def0], [(seq + 0x4000) & 0xffff, 0x0102_0304]);
    }
    for (const [seq, ssrc] of sent) {
      t.equal(path.send(a.dtls, built(seq, ssrc)), 'direct', `seq ${seq & 0xffff} of ${ssrc}: direct`);
      t.equal(sendSrtpPacket(b.dtls, built(seq, ssrc)), 'direct');
    }
    srtpTurnQueue().flush();
    await waitFor(
      () => viaPath.got.length === sent.length && viaSend.got.length === sent.length,
      5000,
      'both',
    );
    t.same(viaPath.got, viaSend.got, 'byte for byte, two SSRCs interleaved, across the wrap');
    t.equal(a.d.packetsSent, b.d.packetsSent, 'transport packets counted alike');
    t.equal(a.d.bytesSent, b.d.bytesSent, 'transport bytes counted alike');
    const pa = a.conn.nominated as { packetsSent: number; bytesSent: number };
    const pb = b.conn.nominated as { packetsSent: number; bytesSent: number };
    t.same([pa.packetsSent, pa.bytesSent], [pb.packetsSent, pb.bytesSent], 'the pair counted alike');
  });
}

t.test('looks again when what it kept stops holding', async (t) => {
  const tx = await boundFor(t);
  const first = await keptReceiver(t);
  const second = await keptReceiver(t);
  const a = fake(tx, first.port, 7);
  const twin = fake(tx, second.port, 7); // what sendSrtpPacket makes of the same changes
  const path = new SrtpSendPath();
  let seq = 100;
  const both = (): [string, string] => {
    const s = seq++;
    return [path.send(a.dtls, built(s)), sendSrtpPacket(twin.dtls, built(s))];
  };
  t.same(both(), ['direct', 'direct'], 'bound');

  // Another nominated pair: the path's datagrams go to its address.
  const moved = pairTo(tx, second.port);
  a.conn.nominated = moved;
  t.same(both(), ['direct', 'direct'], 'another pair');
  srtpTurnQueue().flush();
  await waitFor(() => first.got.length === 1 && second.got.length === 3, 5000, 'to the new pair');
  t.equal(moved.packetsSent, 1, "the new pair's statistics");

  // New SRTP keys (a new DTLS session): encrypted with them, as sendSrtpPacket does.
  a.d.srtp = keys(7, 0x42);
  (twin.d as { srtp: object }).srtp = keys(7, 0x42);
  const before = second.got.length;
  t.same(both(), ['direct', 'direct'], 'new keys');
  srtpTurnQueue().flush();
  await waitFor(() => second.got.length === before + 2, 5000, 'both datagrams');
  t.same(second.got[before], second.got[before + 1], 'the same bytes as sendSrtpPacket (the new keys)');

  // Consent gone, DTLS closed, the socket's transport closed: nothing sent, as sendSrtpPacket.
  a.consent.ok = false;
  twin.consent.ok = false;
  t.same(both(), ['not_ready', 'not_ready'], 'consent gone');
  a.consent.ok = true;
  twin.consent.ok = true;
  a.d.state = 'closed';
  (twin.d as { state: string }).state = 'closed';
  t.same(both(), ['not_ready', 'not_ready'], 'DTLS closed');
  a.d.state = 'connected';
  (twin.d as { state: string }).state = 'connected';
  (moved.protocol.transport as { closed: boolean }).closed = true;
  (twin.conn.nominated as { protocol: { transport: { closed: boolean } } }).protocol.transport.closed = true;
  t.same(both(), ['not_ready', 'not_ready'], 'the transport closed');
  (moved.protocol.transport as { closed: boolean }).closed = false;
  (twin.conn.nominated as { protocol: { transport: { closed: boolean } } }).protocol.transport.closed = false;
  t.same(both(), ['direct', 'direct'], 'open again: sent');

  // Another transport on the same path object (a renegotiated sender): its own pair and keys.
  const other = fake(tx, first.port, 1);
  const firstBefore = first.got.length;
  t.equal(path.send(other.dtls, built(seq++)), 'direct', 'another transport');
  srtpTurnQueue().flush();
  await waitFor(() => first.got.length === firstBefore + 1, 5000, "to the other transport's pair");
  t.equal(other.d.packetsSent, 1, "counted on the other transport's statistics");
  t.ok(
    first.got[firstBefore]!.length === built(seq - 1).length + 10,
    "encrypted with the other transport's profile (an 80-bit tag)",
  );
});

t.test(
  "kept: with the add-on the pair's address is read once for many packets (each time without it)",
  async (t) => {
    const tx = await boundFor(t);
    const rx = await keptReceiver(t);
    const a = fake(tx, rx.port, 7);
    const pair = a.conn.nominated as { remoteCandidate: object };
    const candidate = pair.remoteCandidate;
    let reads = 0;
    Object.defineProperty(pair, 'remoteCandidate', {
      get: () => {
        reads++;
        return candidate;
      },
    });
    const path = new SrtpSendPath();
    for (let seq = 0; seq < 20; seq++) {
      t.equal(path.send(a.dtls, built(seq)), 'direct');
    }
    srtpTurnQueue().flush();
    await waitFor(() => rx.got.length === 20, 5000, 'twenty datagrams');
    t.equal(reads, native ? 1 : 20, native ? 'looked up once' : 'no add-on: looked up per packet, once each');
  },
);
