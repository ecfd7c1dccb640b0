/**
 * media/srtpSend: the forwarded-RTP send path. With two real werift peers on loopback it takes the direct
 * path (one socket.send per packet; with the add-on the socket's packets of a turn in one sendmmsg) and the
 * receiver decrypts what it sent — this pins the werift internals it relies on; with transports of other shapes it falls back to werift's sendRtp, and it sends nothing before
 * DTLS is connected or after ICE consent is gone. A socket send error is counted, not thrown. A packet built in
 * place (sentPackets.ts) is sent the same way, byte for byte what the header + payload form sends, and werift's
 * paths get copies of it (the slot is reused).
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import type { RTCDtlsTransport, RtpPacket } from 'werift';
import { SendSlab } from '../../../src/media/sendSlab.js';
import { SentPacketRing, type SentPacket } from '../../../src/media/sentPackets.js';
import {
  prepareSrtp,
  prepareSrtpAt,
  prepareSrtpPacket,
  sendSrtcp,
  sendSrtp,
  sendSrtpPacket,
  srtpSendErrors,
  SrtpRoute,
} from '../../../src/media/srtpSend.js';
import { srtpSendState, type SrtpSessionKeys } from '../../../src/media/srtp/srtpSendState.js';
import { sendRtcpBytes } from '../../../src/media/rtcpSend.js';
import { tapSrtcp } from '../../../src/media/srtcpTap.js';
import { WireRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { connectedWeriftPair } from '../../../harness/peers/weriftPair.js';
import { waitFor } from '../../../harness/stack.js';
import { boundFor, keptReceiver } from '../../helpers/loopbackUdp.js';

/** The packet `header(seq)` + `payload` built in a ring slot, as DownTrack builds it. */
function built(ring: SentPacketRing, h: WireRtpHeader, payload: Buffer): SentPacket {
  const bytes = h.serialize();
  const p = ring.slot(h.sequenceNumber, bytes.length + payload.length);
  bytes.copy(p.buf, p.off);
  payload.copy(p.buf, p.off + bytes.length);
  p.headerLength = bytes.length;
  p.length = bytes.length + payload.length;
  return p;
}

function header(seq: number): WireRtpHeader {
  return new WireRtpHeader({
    ssrc: 0x1234_5678,
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: seq * 3000,
    marker: true,
    extensions: [],
  });
}

t.test('two werift peers: the direct path, decrypted by the receiver', async (t) => {
  const got: RtpPacket[] = [];
  const pair = await connectedWeriftPair({
    onRtp: (rtp) => {
      got.push(rtp);
    },
  });
  t.teardown(pair.close);
  const tr = pair.sender;
  const dtls: RTCDtlsTransport = tr.sender.dtlsTransport;
  const sentBefore = dtls.packetsSent;
  // The SFU's own SRTP encrypts (srtp/srtpSendState.ts), never werift's per-packet cipher objects.
  const session = (dtls as unknown as { srtp: { encrypt: (...a: unknown[]) => Buffer } }).srtp;
  let weriftEncrypts = 0;
  const weriftEncrypt = session.encrypt.bind(session);
  session.encrypt = (...a: unknown[]) => {
    weriftEncrypts++;
    return weriftEncrypt(...a);
  };
  t.ok(srtpSendState(session as SrtpSessionKeys) !== null, 'the negotiated keys and profile are read');
  const results = [];
  for (let seq = 65530; seq < 65540; seq++) {
    // Announce the SSRC to the receiver's router the way werift's sender does (the m-line's SSRC).
    const h = new WireRtpHeader({
      ssrc: tr.sender.ssrc,
      payloadType: tr.codecs[0]!.payloadType,
      sequenceNumber: seq & 0xffff,
      timestamp: seq * 3000,
      marker: true,
      extensions: [],
    });
    results.push(sendSrtp(dtls, Buffer.from([0x90, 0x80, 0x80, seq & 0xff, 0x10, 1, 2, 3]), h));
  }
  t.same(new Set(results), new Set(['direct']), 'every packet took the direct path');
  t.equal(weriftEncrypts, 0, 'werift encrypted none of them');
  t.equal(dtls.packetsSent - sentBefore, 10, 'the transport statistics count them');
  await waitFor(() => got.length >= 10, 10_000, 'the receiver decrypts ten packets');
  t.same(
    got.map((p) => p.header.sequenceNumber),
    [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3],
    'in order, across the sequence wrap',
  );
  t.same(
    got.map((p) => p.payload[3]),
    [250, 251, 252, 253, 254, 255, 0, 1, 2, 3],
    'payloads intact',
  );
  // Built in place (a ring slot per packet), continuing the sequence: the same path, the same result.
  const ring = new SentPacketRing(16);
  const inPlace = [];
  for (let seq = 4; seq < 8; seq++) {
    const h = new WireRtpHeader({
      ssrc: tr.sender.ssrc,
      payloadType: tr.codecs[0]!.payloadType,
      sequenceNumber: seq,
      timestamp: seq * 3000,
      marker: true,
      extensions: [{ id: 3, payload: Uint8Array.of(1, 2, 3) }],
    });
    inPlace.push(sendSrtpPacket(dtls, built(ring, h, Buffer.from([0x90, 0x80, 0x80, 100 + seq, 0x10, 1]))));
  }
  t.same(new Set(inPlace), new Set(['direct']), 'built in place: the direct path');
  t.equal(weriftEncrypts, 0, 'werift encrypted none of them either');
  await waitFor(() => got.length >= 14, 10_000, 'the receiver decrypts the four built in place');
  t.same(
    got.slice(10).map((p) => [p.header.sequenceNumber, p.payload[3]]),
    [
      [4, 104],
      [5, 105],
      [6, 106],
      [7, 107],
    ],
    'in order, payloads intact',
  );
});

t.test(
  "two werift peers: RTCP the SFU serialised leaves on the direct path, on werift's SRTCP index",
  async (t) => {
    const pair = await connectedWeriftPair();
    t.teardown(pair.close);
    const dtls: RTCDtlsTransport = pair.sender.sender.dtlsTransport;
    const far = pair.b.getTransceivers()[0]!.receiver.dtlsTransport;
    const MARK = 0xabcd_0042; // the SSRC of the test's packets (werift's own RTCP is not counted)
    const seen: Buffer[] = [];
    t.ok(
      tapSrtcp(far, (plain) => {
        if (plain.length >= 8 && plain.readUInt32BE(4) === MARK) {
          seen.push(Buffer.from(plain));
        }
      }),
      'the receiver reads what it unprotects',
    );
    /** An APP packet (PT 204) from MARK, its 4 data bytes `n`. */
    const app = (n: number) => {
      const b = Buffer.alloc(16);
      b[0] = 0x80;
      b[1] = 204;
      b.writeUInt16BE(3, 2);
      b.writeUInt32BE(MARK, 4);
      b.write('TEST', 8, 'latin1');
      b.writeUInt32BE(n, 12);
      return b;
    };
    t.equal(sendSrtcp(dtls, app(0)), 'werift', 'before the tap: werift must send it');
    t.ok(tapSrtcp(dtls), 'the sender protects with the own cipher');
    let weriftSends = 0;
    const weriftSendRtcp = dtls.sendRtcp.bind(dtls);
    dtls.sendRtcp = async (packets) => {
      if (packets.some((p) => p.serialize().readUInt32BE(4) === MARK)) {
        weriftSends++;
      }
      return weriftSendRtcp(packets);
    };
    const sentBefore = dtls.packetsSent;
    const sent = [1, 2, 3, 4, 5, 6].map(app);
    // werift's path (the tapped encrypt) and the direct one in turn: one index counter, so the receiver's replay
    // list refuses none of them.
    void weriftSendRtcp([{ serialize: () => sent[0]! } as never]);
    t.equal(sendSrtcp(dtls, sent[1]!), 'direct');
    sendRtcpBytes(dtls, sent[2]!);
    void weriftSendRtcp([{ serialize: () => sent[3]! } as never]);
    await waitFor(() => seen.length >= 2, 10_000, 'the first two arrive');
    sendRtcpBytes(dtls, sent[4]!);
    sendRtcpBytes(dtls, sent[5]!);
    await waitFor(() => seen.length >= 6, 10_000, 'six packets arrive');
    t.same(
      seen.map((b) => b.readUInt32BE(12)).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6],
      'each unprotected by the receiver, once',
    );
    t.same(
      seen.find((b) => b.readUInt32BE(12) === 6),
      sent[5],
      'byte for byte',
    );
    t.equal(weriftSends, 0, "sendRtcpBytes did not go through werift's sendRtcp");
    t.ok(dtls.packetsSent - sentBefore >= 6, 'the transport statistics count them');
  },
);

t.test('built in place: byte for byte the datagram of header + payload (both SRTP profiles)', async (t) => {
  const keys = (profile: number, saltLength: number): SrtpSessionKeys => ({
    localContext: {
      masterKey: Buffer.alloc(16, 7),
      masterSalt: Buffer.alloc(saltLength, 9),
      profile,
    },
  });
  for (const [name, profile, salt] of [
    ['AES_CM_128_HMAC_SHA1_80', 0x0001, 14],
    ['AEAD_AES_128_GCM', 0x0007, 12],
  ] as const) {
    const ring = new SentPacketRing(8);
    const payload = Buffer.from('a payload of some length');
    for (const seq of [0xffff, 0, 1]) {
      const socket = { send: () => undefined, on: () => undefined };
      // Two transports with the same keys, so each has its own rollover state.
      const a = fakeDtls({ socket });
      const b = fakeDtls({ socket });
      Object.assign((a.dtls as unknown as { srtp: object }).srtp, keys(profile, salt));
      Object.assign((b.dtls as unknown as { srtp: object }).srtp, keys(profile, salt));
      const h = header(seq);
      const viaObjects = prepareSrtp(a.dtls, payload, h, new SrtpRoute());
      const p = built(ring, h, payload);
      const before = Buffer.from(p.buf.subarray(p.off, p.off + p.length));
      const viaPacket = prepareSrtpPacket(b.dtls, p, new SrtpRoute());
      t.ok(Buffer.isBuffer(viaPacket) && Buffer.isBuffer(viaObjects), `${name} seq ${seq}: both encrypted`);
      t.same(viaPacket, viaObjects, `${name} seq ${seq}: identical datagrams`);
      t.equal(
        (viaPacket as Buffer).length,
        p.length + (profile === 0x0007 ? 16 : 10),
        `${name} seq ${seq}: the SFU's cipher (its tag), not the fake's plaintext`,
      );
      t.same(p.buf.subarray(p.off, p.off + p.length), before, `${name} seq ${seq}: the slot is not modified`);
    }
  }
});

t.test(
  "into a slab without a view (prepareSrtpAt): the bytes prepareSrtp makes (both profiles, across the wrap); else prepareSrtp's result",
  async (t) => {
    const keys = (profile: number, saltLength: number): SrtpSessionKeys => ({
      localContext: { masterKey: Buffer.alloc(16, 5), masterSalt: Buffer.alloc(saltLength, 3), profile },
    });
    for (const [name, profile, salt] of [
      ['AES_CM_128_HMAC_SHA1_80', 0x0001, 14],
      ['AEAD_AES_128_GCM', 0x0007, 12],
    ] as const) {
      const socket = { send: () => undefined, on: () => undefined };
      const a = fakeDtls({ socket });
      const b = fakeDtls({ socket });
      Object.assign((a.dtls as unknown as { srtp: object }).srtp, keys(profile, salt));
      Object.assign((b.dtls as unknown as { srtp: object }).srtp, keys(profile, salt));
      const slab = new SendSlab();
      const slabs = { slabFor: (s: object) => (s === socket ? slab : undefined) };
      const route = new SrtpRoute();
      for (const seq of [0xfffe, 0xffff, 0, 1]) {
        const payload = Buffer.alloc(50 + (seq % 7), seq & 0xff);
        const viaBuffer = prepareSrtp(a.dtls, payload, header(seq), new SrtpRoute());
        const at = prepareSrtpAt(b.dtls, payload, header(seq), route, slabs);
        t.ok(typeof at === 'number' && at >= 0, `${name} seq ${seq}: into the slab`);
        const slice = slab.buffer.subarray(at as number, (at as number) + route.length);
        t.same(slice, viaBuffer, `${name} seq ${seq}: the same datagram (ROC counted alike)`);
        t.equal(route.address, '127.0.0.1', 'the route is filled');
      }
      const noSlab = prepareSrtpAt(b.dtls, Buffer.from('x'), header(2), route, { slabFor: () => undefined });
      t.ok(Buffer.isBuffer(noSlab), `${name}: no slab for the socket: a datagram of its own`);
      t.same(
        noSlab,
        prepareSrtp(a.dtls, Buffer.from('x'), header(2), new SrtpRoute()),
        `${name}: prepareSrtp's bytes`,
      );
      const usedBefore = slab.used;
      const noKeys = fakeDtls({ socket });
      const noKeysTwin = fakeDtls({ socket });
      const plain = prepareSrtpAt(noKeys.dtls, Buffer.from('x'), header(2), route, slabs);
      t.ok(Buffer.isBuffer(plain), "no own cipher: the session's own encryption (prepareSrtp)");
      t.same(
        plain,
        prepareSrtp(noKeysTwin.dtls, Buffer.from('x'), header(2), new SrtpRoute()),
        'the same bytes',
      );
      t.equal(slab.used, usedBefore, 'nothing taken from the slab by the fallback');
      const notReady = fakeDtls({ state: 'connecting', socket });
      t.equal(
        prepareSrtpAt(notReady.dtls, Buffer.from('x'), header(2), route, slabs),
        'not_ready',
        'not ready',
      );
    }
  },
);

t.test('built in place: werift paths get copies; refusals as for header + payload', async (t) => {
  const ring = new SentPacketRing(8);
  const payload = Buffer.from('payload');
  const socket = { send: () => undefined, on: () => undefined };
  const tcp = fakeDtls({ type: 'tcp', socket });
  const p = built(ring, header(3), payload);
  t.equal(sendSrtpPacket(tcp.dtls, p), 'werift', 'a TCP pair: werift sends it');
  p.buf.fill(0, p.off, p.off + p.length); // the slot is reused for the next packet
  t.same(tcp.fallback[0], payload, 'werift got a copy of the payload, not the slot');
  // No readable keys: werift's own encryption, given copies.
  const seen: Buffer[] = [];
  const weriftKeys = fakeDtls({
    socket,
    encrypt: (pl, h) => {
      seen.push(Buffer.concat([h.serialize(), pl]));
      return Buffer.concat([h.serialize(), pl]);
    },
  });
  const q = built(ring, header(4), payload);
  t.equal(sendSrtpPacket(weriftKeys.dtls, q), 'direct');
  t.same(
    seen[0],
    Buffer.concat([header(4).serialize(), payload]),
    "werift's encryption saw header and payload",
  );
  t.equal(sendSrtpPacket(fakeDtls({ state: 'connecting', socket }).dtls, q), 'not_ready');
  t.equal(sendSrtpPacket(fakeDtls({ consent: false, socket }).dtls, q), 'not_ready');
  const failing = fakeDtls({
    socket,
    encrypt: () => {
      throw new Error('no keys');
    },
  });
  t.equal(sendSrtpPacket(failing.dtls, q), 'encrypt_failed');
});

interface FakeOpts {
  state?: string;
  type?: string;
  consent?: boolean;
  encrypt?: (payload: Buffer, h: { serialize: () => Buffer }) => Buffer;
  socket?: {
    send: (m: Buffer, port: number, addr: string) => void;
    on: (e: 'error', cb: (e: Error) => void) => unknown;
  };
}

function fakeDtls(o: FakeOpts) {
  const fallback: Buffer[] = [];
  const pair = {
    remoteAddr: ['127.0.0.1', 9] as const,
    protocol: { transport: { type: o.type ?? 'udp', closed: false, socket: o.socket } },
    packetsSent: 0,
    bytesSent: 0,
  };
  const dtls = {
    state: o.state ?? 'connected',
    srtp: {
      encrypt:
        o.encrypt ?? ((p: Buffer, h: { serialize: () => Buffer }) => Buffer.concat([h.serialize(), p])),
    },
    iceTransport: { connection: { nominated: pair, canSendApplicationData: () => o.consent ?? true } },
    bytesSent: 0,
    packetsSent: 0,
    sendRtp: (payload: Buffer) => {
      fallback.push(payload);
      return Promise.resolve(payload.length);
    },
  };
  return { dtls: dtls as unknown as RTCDtlsTransport, fallback, pair };
}

t.test('a real UDP socket: what is sent, and the statistics', async (t) => {
  const tx = await boundFor(t);
  const { port, got } = await keptReceiver(t);
  const { dtls, pair } = fakeDtls({ socket: tx });
  (pair as { remoteAddr: readonly [string, number] }).remoteAddr = ['127.0.0.1', port];
  t.equal(sendSrtp(dtls, Buffer.from('payload'), header(7)), 'direct');
  await waitFor(() => got.length === 1, 5000, 'datagram');
  t.same(
    got[0],
    Buffer.concat([header(7).serialize(), Buffer.from('payload')]),
    'the encrypted bytes as they came out',
  );
  t.equal(pair.packetsSent, 1);
  t.equal(pair.bytesSent, got[0]!.length);
});

t.test('fallback, refusals, failures', async (t) => {
  const sent: Buffer[] = [];
  const socket = { send: (m: Buffer) => void sent.push(m), on: () => undefined };
  const tcp = fakeDtls({ type: 'tcp', socket });
  t.equal(sendSrtp(tcp.dtls, Buffer.from('x'), header(1)), 'werift', 'a TCP pair: werift sends it');
  t.equal(tcp.fallback.length, 1);
  const noSocket = fakeDtls({});
  t.equal(
    sendSrtp(noSocket.dtls, Buffer.from('x'), header(1)),
    'werift',
    'internals not found: werift sends it',
  );
  t.equal(sendSrtp(fakeDtls({ state: 'connecting', socket }).dtls, Buffer.from('x'), header(1)), 'not_ready');
  t.equal(
    sendSrtp(fakeDtls({ consent: false, socket }).dtls, Buffer.from('x'), header(1)),
    'not_ready',
    'no consent: nothing sent',
  );
  const failing = fakeDtls({
    socket,
    encrypt: () => {
      throw new Error('no keys');
    },
  });
  t.equal(
    sendSrtp(failing.dtls, Buffer.from('x'), header(1)),
    'encrypt_failed',
    'an SRTP failure is a result, not a throw',
  );
  t.equal(sent.length, 0, 'nothing reached the socket');
});

t.test('a socket send error is counted, not an uncaught error event', async (t) => {
  const tx = createSocket('udp4');
  t.teardown(() => tx.close());
  const { dtls } = fakeDtls({ socket: tx });
  t.equal(sendSrtp(dtls, Buffer.from('x'), header(1)), 'direct');
  const before = srtpSendErrors();
  tx.emit('error', new Error('EPERM'));
  t.equal(srtpSendErrors(), before + 1);
});

t.test("the pair's remote candidate gives the address; werift's allocating getter is not read", async (t) => {
  const tx = await boundFor(t);
  const { port, got } = await keptReceiver(t);
  const { dtls, pair } = fakeDtls({ socket: tx });
  let getterReads = 0;
  Object.defineProperty(pair, 'remoteAddr', {
    get: () => {
      getterReads++;
      return ['127.0.0.1', 9] as const; // the wrong port: a datagram sent by it never arrives
    },
  });
  Object.assign(pair, { remoteCandidate: { host: '127.0.0.1', port } });
  for (let i = 0; i < 3; i++) {
    t.equal(sendSrtp(dtls, Buffer.from(`p${String(i)}`), header(10 + i)), 'direct');
  }
  await waitFor(() => got.length === 3, 5000, 'datagrams at the candidate address');
  t.equal(getterReads, 0, 'remoteAddr never read');
  Object.assign(pair, { remoteCandidate: { host: '127.0.0.1' } }); // no port: the getter is the fallback
  t.equal(sendSrtp(dtls, Buffer.from('x'), header(20)), 'direct');
  t.equal(getterReads, 1, 'without a usable candidate, the getter');
});
