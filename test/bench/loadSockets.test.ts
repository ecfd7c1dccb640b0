/** The load's socket helpers: which datagrams are RTP, and the arrivals kept for `cascade`'s hop at the sockets. */
import t from 'tap';
import { isRtpDatagram, SocketArrivals } from '../../bench/lib/loadSockets.js';

/** An RTP header (12 bytes): version 2, payload type `pt`, sequence number and SSRC. */
function rtp(ssrc: number, seq: number, pt = 96): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(ssrc, 8);
  return b;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

t.test('isRtpDatagram: RTP, not RTCP, STUN or DTLS', async (t) => {
  const rows: [string, number[], boolean][] = [
    ['RTP, payload type 96', [0x80, 96], true],
    ['RTP with the marker bit (224 = 96 | 0x80)', [0x80, 224], true],
    ['RTCP SR (200)', [0x80, 200], false],
    ['RTCP lowest type (192)', [0x80, 192], false],
    ['RTCP highest type (223)', [0x80, 223], false],
    ['STUN binding request', [0x00, 0x01], false],
    ['DTLS handshake', [22, 0xfe], false],
    ['first byte 191 (version 2, every flag)', [191, 96], true],
    ['first byte 192 (version 3)', [192, 96], false],
    ['one byte only', [0x80], false],
  ];
  for (const [name, bytes, want] of rows) {
    t.equal(isRtpDatagram(Buffer.from(bytes)), want, name);
  }
});

t.test('SocketArrivals: arrival = now less the wait, taken once by SSRC and sequence number', async (t) => {
  const a = new SocketArrivals();
  const before = nowMs();
  a.note(rtp(0xdeadbeef, 65535), 2_000);
  const after = nowMs();
  const at = a.take(0xdeadbeef, 65535);
  t.ok(
    at !== undefined && at >= before - 2 - 0.001 && at <= after - 2 + 0.001,
    `2 ms before it was noted (${at})`,
  );
  t.equal(a.take(0xdeadbeef, 65535), undefined, 'taken once');
  a.note(rtp(1, 0), -1);
  t.equal(a.take(1, 0), undefined, 'a wait not known notes nothing');
  a.note(Buffer.from([0x80, 96, 0, 1]), 10);
  t.equal(a.take(0, 1), undefined, 'shorter than an RTP header: nothing');
  a.note(rtp(7, 1), 0);
  a.note(rtp(8, 1), 0);
  t.ok(a.take(8, 1) !== undefined && a.take(7, 1) !== undefined, 'another SSRC with the same number apart');
});

t.test('SocketArrivals keeps at most 4,096 arrivals, the oldest going first', async (t) => {
  const a = new SocketArrivals();
  for (let seq = 0; seq < 4_097; seq++) {
    a.note(rtp(5, seq), 0);
  }
  t.equal(a.take(5, 0), undefined, 'the first one went');
  t.ok(a.take(5, 1) !== undefined && a.take(5, 4_096) !== undefined, 'the rest are kept');
});
