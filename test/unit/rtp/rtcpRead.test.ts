/**
 * readRtcp tables: RTCP packets as werift parses them (our own PLI/FIR/REMB/NACK bytes and werift-serialised
 * SR/RR, run through werift's RtcpPacketConverter) become the typed feedback union; malformed or unread
 * packets become `unknown` with a named reason, and nothing throws.
 */
import t, { type Test } from 'tap';
import { RtcpPacketConverter, RtcpReceiverInfo, RtcpRrPacket, RtcpSenderInfo, RtcpSrPacket } from 'werift';
import {
  firPacket,
  MAX_FIR_ENTRIES,
  MAX_REPORT_BLOCKS,
  lsrFromNtp,
  ntpFromUnixMs,
  pliPacket,
  readRtcp,
  rembPacket,
  type RtcpFeedback,
  unixMsFromNtp,
} from '../../../src/rtp/rtcpFeedback.js';
import { MAX_NACK_SEQS, nackPacket } from '../../../src/rtp/rtcpNack.js';

/** Our bytes through werift's parser: exactly what `dtlsTransport.onRtcp` hands the SFU. */
function viaWerift(tt: Test, bytes: Uint8Array): unknown {
  const parsed = RtcpPacketConverter.deSerialize(Buffer.from(bytes));
  tt.equal(parsed.length, 1, 'werift parsed one packet');
  return parsed[0];
}

function block(ssrc: number, fractionLost: number, lsr: number, dlsr: number): RtcpReceiverInfo {
  return new RtcpReceiverInfo({
    ssrc,
    fractionLost,
    packetsLost: 0,
    highestSequence: 0,
    jitter: 0,
    lsr,
    dlsr,
  });
}

const SR_MS = 1_764_000_000_123;

t.test('werift-parsed packets', async (t) => {
  const sr = new RtcpSrPacket({
    ssrc: 0x1234,
    senderInfo: new RtcpSenderInfo({
      ntpTimestamp: ntpFromUnixMs(SR_MS),
      rtpTimestamp: 0xffff_fff0,
      packetCount: 1,
      octetCount: 2,
    }),
    reports: [block(0xaa, 25, 0x1234_5678, 65536)],
  });
  const rr = new RtcpRrPacket({ ssrc: 9, reports: [block(0xaa, 0, 0, 0), block(0xbb, 255, 7, 8)] });
  const rows: [string, Uint8Array, RtcpFeedback][] = [
    ['PLI', pliPacket(1, 0xdead_beef), { kind: 'pli', mediaSsrc: 0xdead_beef }],
    ['FIR', firPacket(1, 0xcafe, 3), { kind: 'fir', ssrcs: [0xcafe] }],
    ['REMB', rembPacket(1, 1_500_000, [5, 6]), { kind: 'remb', bitrateBps: 1_500_000 }],
    ['NACK', nackPacket(1, 77, [100, 101, 117]), { kind: 'nack', mediaSsrc: 77, seqs: [100, 101, 117] }],
    [
      'NACK across the wrap (65535 → 0)',
      nackPacket(1, 77, [65534, 65535, 0, 1]),
      { kind: 'nack', mediaSsrc: 77, seqs: [65534, 65535, 0, 1] },
    ],
    [
      'SR: sender clock and its report block',
      Uint8Array.from(sr.serialize()),
      {
        kind: 'sr',
        ssrc: 0x1234,
        ntpMs: unixMsFromNtp(ntpFromUnixMs(SR_MS)),
        rtpTs: 0xffff_fff0,
        lsr: lsrFromNtp(ntpFromUnixMs(SR_MS)),
        reports: [{ ssrc: 0xaa, fractionLost: 25, lsr: 0x1234_5678, dlsr: 65536 }],
      },
    ],
    [
      'RR: every block',
      Uint8Array.from(rr.serialize()),
      {
        kind: 'rr',
        reports: [
          { ssrc: 0xaa, fractionLost: 0, lsr: 0, dlsr: 0 },
          { ssrc: 0xbb, fractionLost: 255, lsr: 7, dlsr: 8 },
        ],
      },
    ],
  ];
  for (const [name, bytes, want] of rows) {
    t.strictSame(readRtcp(viaWerift(t, bytes)), want, name);
  }
});

t.test('SR ntp time reads back to the Unix ms it was written from', async (t) => {
  const fb = readRtcp({
    type: 200,
    ssrc: 1,
    senderInfo: { ntpTimestamp: ntpFromUnixMs(SR_MS), rtpTimestamp: 0 },
  });
  t.equal(fb.kind, 'sr');
  t.ok(fb.kind === 'sr' && Math.abs(fb.ntpMs - SR_MS) < 1, 'within 1 ms');
});

t.test('werift-parsed packets the SFU does not read', async (t) => {
  // SDES with one CNAME item.
  const sdes = Uint8Array.from([0x81, 202, 0, 3, 0, 0, 0, 1, 1, 2, 0x41, 0x42, 0, 0, 0, 0]);
  t.strictSame(readRtcp(viaWerift(t, sdes)), { kind: 'unknown', reason: 'unsupported_type' }, 'SDES');
  // PSFB FMT 2 (SLI): werift leaves `feedback` undefined.
  const sli = Uint8Array.from([0x82, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0]);
  t.strictSame(readRtcp(viaWerift(t, sli)), { kind: 'unknown', reason: 'unsupported_feedback' }, 'SLI');
});

t.test('plain-object rows: malformed input → a named unknown, never a throw', async (t) => {
  const rows: [string, unknown, RtcpFeedback][] = [
    ['undefined', undefined, { kind: 'unknown', reason: 'malformed' }],
    ['null', null, { kind: 'unknown', reason: 'malformed' }],
    ['a number', 200, { kind: 'unknown', reason: 'malformed' }],
    ['no type', { ssrc: 1 }, { kind: 'unknown', reason: 'malformed' }],
    ['string type', { type: '200' }, { kind: 'unknown', reason: 'malformed' }],
    ['BYE', { type: 203 }, { kind: 'unknown', reason: 'unsupported_type' }],
    ['APP', { type: 204 }, { kind: 'unknown', reason: 'unsupported_type' }],
    ['RTPFB without feedback', { type: 205 }, { kind: 'unknown', reason: 'unsupported_feedback' }],
    [
      'transport-cc',
      { type: 205, feedback: { count: 15 } },
      { kind: 'unknown', reason: 'unsupported_feedback' },
    ],
    [
      'NACK without a lost list',
      { type: 205, feedback: { count: 1, mediaSourceSsrc: 5 } },
      { kind: 'unknown', reason: 'malformed_feedback' },
    ],
    [
      'NACK without a media SSRC',
      { type: 205, feedback: { count: 1, lost: [3] } },
      { kind: 'nack', mediaSsrc: undefined, seqs: [3] },
    ],
    [
      'NACK as werift leaves it: unwrapped, string-sorted, junk entries',
      { type: 205, feedback: { count: 1, mediaSourceSsrc: 5, lost: [65536, 65535, 'x', -1, 1.5, 0, 65536] } },
      { kind: 'nack', mediaSsrc: 5, seqs: [0, 65535] },
    ],
    [
      'PLI without media SSRC',
      { type: 206, feedback: { count: 1 } },
      { kind: 'unknown', reason: 'malformed_feedback' },
    ],
    [
      'FIR without entries',
      { type: 206, feedback: { count: 4 } },
      { kind: 'unknown', reason: 'malformed_feedback' },
    ],
    [
      'FIR: unreadable entries skipped',
      { type: 206, feedback: { count: 4, fir: [null, { ssrc: 'x' }, { ssrc: 8 }] } },
      { kind: 'fir', ssrcs: [8] },
    ],
    [
      'REMB without bitrate',
      { type: 206, feedback: { count: 15 } },
      { kind: 'unknown', reason: 'malformed_feedback' },
    ],
    [
      'REMB with NaN bitrate',
      { type: 206, feedback: { count: 15, bitrate: Number.NaN } },
      { kind: 'unknown', reason: 'malformed_feedback' },
    ],
    [
      'REMB with a number bitrate',
      { type: 206, feedback: { count: 15, bitrate: 300 } },
      { kind: 'remb', bitrateBps: 300 },
    ],
    ['PSFB without feedback', { type: 206 }, { kind: 'unknown', reason: 'unsupported_feedback' }],
    ['RR without reports', { type: 201 }, { kind: 'rr', reports: [] }],
    [
      'RR: unreadable blocks skipped',
      { type: 201, reports: [null, { ssrc: 1 }, { ssrc: 2, fractionLost: 3, lsr: 4, dlsr: 5 }] },
      { kind: 'rr', reports: [{ ssrc: 2, fractionLost: 3, lsr: 4, dlsr: 5 }] },
    ],
    [
      'SR whose sender info is unreadable: its blocks still count',
      {
        type: 200,
        ssrc: 1,
        senderInfo: { ntpTimestamp: 5, rtpTimestamp: 0 },
        reports: [{ ssrc: 2, fractionLost: 0, lsr: 0, dlsr: 0 }],
      },
      { kind: 'rr', reports: [{ ssrc: 2, fractionLost: 0, lsr: 0, dlsr: 0 }] },
    ],
    [
      'SR without SSRC',
      { type: 200, senderInfo: { ntpTimestamp: 0n, rtpTimestamp: 0 } },
      { kind: 'rr', reports: [] },
    ],
  ];
  for (const [name, input, want] of rows) {
    t.strictSame(readRtcp(input), want, name);
  }
});

t.test('bounds: report blocks, FIR entries, NACKed sequence numbers', async (t) => {
  const blocks = Array.from({ length: 40 }, (_, i) => ({ ssrc: i, fractionLost: 0, lsr: 0, dlsr: 0 }));
  const rr = readRtcp({ type: 201, reports: blocks });
  t.equal(rr.kind === 'rr' ? rr.reports.length : -1, MAX_REPORT_BLOCKS);
  const fir = readRtcp({ type: 206, feedback: { count: 4, fir: blocks } });
  t.equal(fir.kind === 'fir' ? fir.ssrcs.length : -1, Math.min(40, MAX_FIR_ENTRIES));
  const lost = Array.from({ length: 2000 }, (_, i) => i);
  const nack = readRtcp({ type: 205, feedback: { count: 1, mediaSourceSsrc: 1, lost } });
  t.equal(nack.kind === 'nack' ? nack.seqs.length : -1, MAX_NACK_SEQS, '512 seqs per NACK packet');
});
