/**
 * The trunk header writer (media/link/trunkHeader.ts) against the RTP parser (rtp/packetView.ts): table rows
 * with sequence-number and timestamp wrap, with and without the link's extensions, padding and marker; the
 * same writer reused for every row (nothing of a previous header leaks); abs-send-time in place.
 */
import t from 'tap';
import { absSendTimeInto, absSendTimeValue } from '../../../../src/media/link/absSendTime.js';
import { TrunkHeaderWriter } from '../../../../src/media/link/trunkHeader.js';
import { absSendTime } from '../../../../src/rtp/headerExtensions.js';
import { RtpPacketView } from '../../../../src/rtp/packetView.js';

interface Row {
  name: string;
  ids: [number | undefined, number | undefined];
  ssrc: number;
  pt: number;
  seq: number;
  ts: number;
  marker: boolean;
  padding: boolean;
  level: number[] | undefined;
  size: number;
}

const rows: Row[] = [
  {
    name: 'no extensions',
    ids: [undefined, undefined],
    ssrc: 1,
    pt: 96,
    seq: 0,
    ts: 0,
    marker: false,
    padding: false,
    level: [0x85],
    size: 12,
  },
  {
    name: 'seq at the wrap',
    ids: [3, undefined],
    ssrc: 0xffff_ffff,
    pt: 127,
    seq: 65535,
    ts: 0xffff_ffff,
    marker: true,
    padding: false,
    level: undefined,
    size: 20,
  },
  {
    name: 'seq past the wrap (masked)',
    ids: [3, undefined],
    ssrc: 0x7000_0001,
    pt: 96,
    seq: 65536 + 4,
    ts: 2 ** 32 + 7,
    marker: false,
    padding: false,
    level: undefined,
    size: 20,
  },
  {
    name: 'abs-send-time + audio level',
    ids: [1, 2],
    ssrc: 0x7000_0010,
    pt: 111,
    seq: 1,
    ts: 960,
    marker: false,
    padding: false,
    level: [0xff],
    size: 24,
  },
  {
    name: 'audio level only, two bytes',
    ids: [undefined, 2],
    ssrc: 5,
    pt: 111,
    seq: 2,
    ts: 1920,
    marker: false,
    padding: false,
    level: [0x10, 0x20],
    size: 20,
  },
  {
    name: 'audio level not negotiated: left out',
    ids: [1, undefined],
    ssrc: 5,
    pt: 111,
    seq: 3,
    ts: 2880,
    marker: false,
    padding: true,
    level: [0x10],
    size: 20,
  },
  {
    name: 'an id the one-byte form cannot carry: left out',
    ids: [15, 0],
    ssrc: 5,
    pt: 96,
    seq: 4,
    ts: 1,
    marker: false,
    padding: false,
    level: [1],
    size: 12,
  },
];

t.test('trunk headers parse back to what was written', async (t) => {
  const w = new TrunkHeaderWriter();
  const v = new RtpPacketView();
  for (const r of rows) {
    w.setExtensionIds(r.ids[0], r.ids[1]);
    const level = r.level === undefined ? undefined : Uint8Array.from(r.level);
    w.write(r.ssrc, r.pt, r.seq, r.ts, r.marker, r.padding, absSendTimeValue(1_700_000_000_123), level);
    const head = w.serialize();
    t.equal(head.length, r.size, `${r.name}: size`);
    t.equal(w.serializeSize, r.size);
    const payload = r.padding ? Buffer.from([9, 9, 0, 0, 3]) : Buffer.from([9, 9]);
    t.ok(v.reset(Buffer.concat([head, payload])), `${r.name}: valid RTP (${String(v.problem)})`);
    t.same(
      [v.ssrc, v.pt, v.seq, v.ts, v.marker, v.payloadLength, v.paddingLength],
      [r.ssrc >>> 0, r.pt, r.seq & 0xffff, r.ts >>> 0, r.marker, 2, r.padding ? 3 : 0],
      `${r.name}: fields`,
    );
    t.equal(w.ssrc, r.ssrc >>> 0);
    t.equal(w.sequenceNumber, r.seq & 0xffff);
    const absAt = r.ids[0] === undefined || r.ids[0] > 14 ? -1 : v.extension(r.ids[0]);
    if (r.ids[0] !== undefined && r.ids[0] <= 14) {
      t.same(
        [...v.buffer.subarray(absAt, absAt + v.foundLength)],
        [...absSendTime(1_700_000_000_123)],
        `${r.name}: abs-send-time`,
      );
    }
    const levelId = r.ids[1];
    if (levelId !== undefined && levelId >= 1 && level !== undefined) {
      const at = v.extension(levelId);
      t.same(
        [...v.buffer.subarray(at, at + v.foundLength)],
        [...level],
        `${r.name}: the audio level passes through`,
      );
    }
  }
});

t.test('abs-send-time in place: modulo 64 s, exact for epoch times', async (t) => {
  const rows: [number, number][] = [
    [0, 0],
    [1000, 1 << 18],
    [63_999, Math.floor((63_999 * (1 << 18)) / 1000)],
    [64_000, 0],
    [1_700_000_000_000, Math.floor(((1_700_000_000_000 % 64_000) * (1 << 18)) / 1000)],
  ];
  for (const [ms, want] of rows) {
    const b = new Uint8Array(3);
    absSendTimeInto(b, 0, ms);
    t.equal((b[0]! << 16) | (b[1]! << 8) | b[2]!, want & 0xffffff, `${ms} ms`);
  }
});
