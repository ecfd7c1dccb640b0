/**
 * readRtcpBytes: compound RTCP read from its bytes gives the feedback readRtcp gives of werift's parse of the
 * same bytes (table rows, and 2,000 seeded random compounds of SR, RR, NACK, PLI, FIR, REMB, SDES and
 * transport-cc), packet after packet; sequence numbers across the wrap; broken framing, a wrong version, bad
 * padding and truncated fields are `unknown` with a reason and stop nothing but what cannot be framed; it says
 * whether the compound held an SR; it never throws on random bytes.
 */
import t from 'tap';
import {
  PictureLossIndication,
  ReceiverEstimatedMaxBitrate,
  RtcpPacketConverter,
  RtcpPayloadSpecificFeedback,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtcpSenderInfo,
  RtcpSrPacket,
  GenericNack,
  RtcpTransportLayerFeedback,
} from 'werift';
import {
  firPacket,
  MAX_FIR_ENTRIES,
  MAX_REPORT_BLOCKS,
  lsrFromNtp,
  ntpFromUnixMs,
  pliPacket,
  readRtcp,
  rembPacket,
  senderReportPacket,
  type RtcpFeedback,
} from '../../../src/rtp/rtcpFeedback.js';
import { MAX_NACK_SEQS, nackPacket } from '../../../src/rtp/rtcpNack.js';
import { readRtcpBytes } from '../../../src/rtp/rtcpRead.js';
import { receiverReportPackets } from '../../../src/rtp/receiverReport.js';

function read(bytes: Uint8Array): { fbs: RtcpFeedback[]; sr: boolean } {
  const fbs: RtcpFeedback[] = [];
  const sr = readRtcpBytes(bytes, 0, bytes.length, (fb) => fbs.push(fb));
  return { fbs, sr };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** NACK seqs compared as sets (werift sorts its list as strings; the bytes are read in packet order). */
function norm(fb: RtcpFeedback): unknown {
  return fb.kind === 'nack' ? { ...fb, seqs: [...fb.seqs].sort((a, b) => a - b) } : fb;
}

const block = (ssrc: number, fractionLost: number, lsr: number, dlsr: number) => ({
  ssrc,
  fractionLost,
  cumulativeLost: 3,
  extendedHighestSeq: 70_000,
  jitter: 12,
  lsr,
  dlsr,
  expectedInterval: 0,
  lostInterval: 0,
});

t.test('table rows', async (t) => {
  const sr = senderReportPacket(0x1234, ntpFromUnixMs(1_764_000_000_123), 0xffff_fff0, 10, 2000);
  const rr = receiverReportPackets(9, [block(0xaa, 0, 0, 0), block(0xbb, 255, 7, 8)]);
  const sdes = Uint8Array.from([0x81, 202, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0]);
  const twcc = Uint8Array.from([0x8f, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  const afbNotRemb = Uint8Array.from([
    0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 0x41, 0x42, 0x43, 0x44, 0, 0, 0, 0,
  ]);
  const rows: [string, Uint8Array, RtcpFeedback[], boolean][] = [
    ['PLI', pliPacket(1, 0xdead_beef), [{ kind: 'pli', mediaSsrc: 0xdead_beef }], false],
    ['FIR', firPacket(1, 0xcafe, 3), [{ kind: 'fir', ssrcs: [0xcafe] }], false],
    ['REMB', rembPacket(1, 1_500_000, [5, 6]), [{ kind: 'remb', bitrateBps: 1_500_000 }], false],
    [
      'NACK across the wrap',
      nackPacket(1, 77, [65534, 65535, 0, 1, 16]),
      [{ kind: 'nack', mediaSsrc: 77, seqs: [65534, 65535, 0, 1, 16] }],
      false,
    ],
    [
      'SR + RR + SDES compound',
      concat(sr, rr, sdes),
      [
        {
          kind: 'sr',
          ssrc: 0x1234,
          ntpMs: 1_764_000_000_123,
          rtpTs: 0xffff_fff0,
          lsr: lsrFromNtp(ntpFromUnixMs(1_764_000_000_123)),
          reports: [],
        },
        {
          kind: 'rr',
          reports: [
            { ssrc: 0xaa, fractionLost: 0, lsr: 0, dlsr: 0 },
            { ssrc: 0xbb, fractionLost: 255, lsr: 7, dlsr: 8 },
          ],
        },
        { kind: 'unknown', reason: 'unsupported_type' },
      ],
      true,
    ],
    ['transport-cc', twcc, [{ kind: 'unknown', reason: 'unsupported_feedback' }], false],
    ['AFB that is not REMB', afbNotRemb, [{ kind: 'unknown', reason: 'unsupported_feedback' }], false],
    [
      'a length past the end: malformed, the PLI before it read',
      concat(pliPacket(1, 5), Uint8Array.from([0x81, 201, 0, 9, 0, 0, 0, 1])),
      [
        { kind: 'pli', mediaSsrc: 5 },
        { kind: 'unknown', reason: 'malformed' },
      ],
      false,
    ],
    [
      'version 1',
      Uint8Array.from([0x41, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 5]),
      [{ kind: 'unknown', reason: 'malformed' }],
      false,
    ],
    [
      'trailing bytes',
      concat(pliPacket(1, 5), Uint8Array.from([0x80, 201])),
      [
        { kind: 'pli', mediaSsrc: 5 },
        { kind: 'unknown', reason: 'malformed' },
      ],
      false,
    ],
    [
      'PLI without its media SSRC',
      Uint8Array.from([0x81, 206, 0, 1, 0, 0, 0, 1]),
      [{ kind: 'unknown', reason: 'malformed_feedback' }],
      false,
    ],
    [
      'SR cut before its sender info ends: an RR with no blocks',
      Uint8Array.from([0x80, 200, 0, 1, 0, 0, 0, 1]),
      [{ kind: 'rr', reports: [] }],
      true,
    ],
    [
      'padding (RR with 4 padding bytes, count 0)',
      Uint8Array.from([0xa0, 201, 0, 2, 0, 0, 0, 9, 0, 0, 0, 4]),
      [{ kind: 'rr', reports: [] }],
      false,
    ],
    [
      'padding longer than the packet',
      Uint8Array.from([0xa0, 201, 0, 1, 0, 0, 0, 9]),
      [{ kind: 'unknown', reason: 'malformed' }],
      false,
    ],
    ['empty', new Uint8Array(0), [], false],
  ];
  for (const [name, bytes, want, sr] of rows) {
    const got = read(bytes);
    t.same(got.fbs, want, name);
    t.equal(got.sr, sr, `${name}: SR seen`);
  }
});

t.test('bounds: report blocks, FIR entries, NACKed sequence numbers', async (t) => {
  const rr = receiverReportPackets(
    1,
    Array.from({ length: 31 }, (_, i) => block(i, 0, 0, 0)),
  );
  t.equal((read(rr).fbs[0] as unknown as { reports: unknown[] }).reports.length, MAX_REPORT_BLOCKS);
  const firs = Buffer.alloc(12 + 8 * 40);
  firs.set([0x84, 206], 0);
  firs.writeUInt16BE(2 + 2 * 40, 2);
  for (let i = 0; i < 40; i++) {
    firs.writeUInt32BE(100 + i, 12 + 8 * i);
  }
  t.equal((read(firs).fbs[0] as unknown as { ssrcs: unknown[] }).ssrcs.length, MAX_FIR_ENTRIES);
  const all = Array.from({ length: 2000 }, (_, i) => (i * 2) & 0xffff);
  const nack = nackPacket(1, 2, all);
  t.equal((read(nack).fbs[0] as unknown as { seqs: unknown[] }).seqs.length, MAX_NACK_SEQS);
});

/** A small deterministic generator (xorshift32). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

function weriftPacket(rand: () => number): Buffer {
  const int = (n: number) => Math.floor(rand() * n);
  const blocks = () =>
    Array.from(
      { length: int(4) },
      () =>
        new RtcpReceiverInfo({
          ssrc: int(2 ** 32),
          fractionLost: int(256),
          packetsLost: int(1000),
          highestSequence: int(2 ** 32),
          jitter: int(5000),
          lsr: int(2 ** 32),
          dlsr: int(2 ** 32),
        }),
    );
  switch (int(7)) {
    case 0:
      return new RtcpSrPacket({
        ssrc: int(2 ** 32),
        senderInfo: new RtcpSenderInfo({
          ntpTimestamp: (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32)),
          rtpTimestamp: int(2 ** 32),
          packetCount: int(1e6),
          octetCount: int(1e9),
        }),
        reports: blocks(),
      }).serialize();
    case 1:
      return new RtcpRrPacket({ ssrc: int(2 ** 32), reports: blocks() }).serialize();
    case 2: {
      const base = int(65536);
      const lost = Array.from({ length: 1 + int(40) }, () => (base + int(300)) & 0xffff);
      return new RtcpTransportLayerFeedback({
        feedback: new GenericNack({ senderSsrc: int(2 ** 32), mediaSourceSsrc: int(2 ** 32), lost }),
      }).serialize();
    }
    case 3:
      return new RtcpPayloadSpecificFeedback({
        feedback: new PictureLossIndication({ senderSsrc: int(2 ** 32), mediaSsrc: int(2 ** 32) }),
      }).serialize();
    case 4:
      return Buffer.from(firPacket(int(2 ** 32), int(2 ** 32), int(256)));
    case 5:
      return new RtcpPayloadSpecificFeedback({
        feedback: new ReceiverEstimatedMaxBitrate({
          senderSsrc: int(2 ** 32),
          mediaSsrc: 0,
          brExp: int(30),
          brMantissa: int(2 ** 18),
          ssrcNum: 1,
          ssrcFeedbacks: [int(2 ** 32)],
        }),
      }).serialize();
    default:
      return Buffer.from([0x81, 202, 0, 2, 0, 0, 0, int(256), 0, 0, 0, 0]);
  }
}

t.test('2,000 random compounds read as werift parses them', async (t) => {
  const rand = prng(0x5eed);
  let packets = 0;
  let same = 0;
  for (let i = 0; i < 2000; i++) {
    const generated = Array.from({ length: 1 + Math.floor(rand() * 4) }, () => weriftPacket(rand));
    // werift reads a NACK's or FIR's entries to the end of the whole compound (its parser hands each packet the
    // rest of the datagram): one of them at most, compared as the last packet, where both read the same entries.
    const listed = (p: Buffer) =>
      (p[1] === 205 || p[1] === 206) && ((p[0] as number) & 0x1f) === (p[1] === 205 ? 1 : 4);
    const parts = [...generated.filter((p) => !listed(p)), ...generated.filter(listed).slice(0, 1)];
    const bytes = Buffer.concat(parts);
    const theirs = RtcpPacketConverter.deSerialize(bytes).map((p) => norm(readRtcp(p)));
    const mine = read(bytes);
    packets += parts.length;
    if (JSON.stringify(mine.fbs.map(norm)) === JSON.stringify(theirs)) {
      same++;
    } else {
      t.same(mine.fbs.map(norm), theirs, `compound ${i}`);
    }
    const hasSr = parts.some((p) => p[1] === 200);
    if (mine.sr !== hasSr) {
      t.fail(`compound ${i}: SR seen ${mine.sr}, has ${hasSr}`);
    }
  }
  t.equal(same, 2000, `${same} compounds (${packets} packets) the same`);
});

t.test('random bytes never throw and every packet is accounted for', async (t) => {
  const rand = prng(0xbad);
  for (let i = 0; i < 5000; i++) {
    const bytes = Uint8Array.from({ length: Math.floor(rand() * 80) }, () => Math.floor(rand() * 256));
    if (rand() < 0.5 && bytes.length >= 4) {
      bytes[0] = 0x80 | ((bytes[0] as number) & 0x3f); // version 2 half the time
    }
    t.doesNotThrow(() => read(bytes));
  }
});
