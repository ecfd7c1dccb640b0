/**
 * Our RTP header writer against werift's RtpHeader.serialize (the reference the SRTP layer used until now)
 * for the headers the forwarding path builds — with and without extensions, marker, padding, one-byte and
 * two-byte elements, wrap values — plus bit-annotated fixtures and the elements that fit nowhere.
 */
import t from 'tap';
import { RtpHeader } from 'werift';
import { WireRtpHeader, writeRtpHeader, type RtpHeaderFields } from '../../../src/rtp/rtpHeader.js';

const ext = (id: number, ...bytes: number[]) => ({ id, payload: Buffer.from(bytes) });

const rows: [string, RtpHeaderFields][] = [
  [
    'no extensions',
    { payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3, marker: false, extensions: [] },
  ],
  [
    'marker, max values',
    {
      payloadType: 127,
      sequenceNumber: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 2 ** 32 - 1,
      marker: true,
      extensions: [],
    },
  ],
  [
    'mid + abs-send-time',
    {
      payloadType: 96,
      sequenceNumber: 100,
      timestamp: 9000,
      ssrc: 0x11223344,
      marker: false,
      extensions: [ext(1, 0x30), ext(3, 1, 2, 3)],
    },
  ],
  [
    'audio level + transport-cc',
    {
      payloadType: 111,
      sequenceNumber: 7,
      timestamp: 960,
      ssrc: 5,
      marker: true,
      extensions: [ext(2, 0x8a), ext(5, 0, 9)],
    },
  ],
  [
    '16-byte mid',
    {
      payloadType: 96,
      sequenceNumber: 0,
      timestamp: 0,
      ssrc: 1,
      marker: false,
      extensions: [ext(1, ...Array(16).fill(0x61))],
    },
  ],
];

t.test('same bytes as werift', async (t) => {
  for (const [name, h] of rows) {
    const theirs = new RtpHeader({
      ...h,
      extensions: h.extensions.map((e) => ({ id: e.id, payload: Buffer.from(e.payload) })),
    });
    t.equal(writeRtpHeader(h).toString('hex'), theirs.serialize(theirs.serializeSize).toString('hex'), name);
  }
});

t.test('fixtures', async (t) => {
  t.equal(
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 0x1234,
      timestamp: 0x01020304,
      ssrc: 0xaabbccdd,
      marker: true,
      extensions: [],
    }).toString('hex'),
    // V=2 P=0 X=0 CC=0 | M=1 PT=96 | seq | timestamp | SSRC
    '80' + 'e0' + '1234' + '01020304' + 'aabbccdd',
  );
  t.equal(
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 0,
      marker: false,
      padding: true,
      extensions: [ext(3, 1, 2, 3)],
    }).toString('hex'),
    // V=2 P=1 X=1 | PT 96 | seq 1 | ts 0 | ssrc 0 | 0xBEDE, 1 word | id 3 len 3-1=2: 0x32, 01 02 03
    'b0' + '60' + '0001' + '00000000' + '00000000' + 'bede0001' + '32010203',
  );
  t.equal(
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 0,
      marker: false,
      extensions: [ext(15, 1), ext(2, 5)],
    }).toString('hex'),
    // id 15 does not fit one-byte elements: two-byte profile 0x1000, 2 words: (15, 1, 01) (2, 1, 05) + 2 pad bytes
    '90' + '60' + '0001' + '00000000' + '00000000' + '10000002' + '0f0101' + '020105' + '0000',
  );
  t.equal(
    writeRtpHeader({
      payloadType: 96,
      sequenceNumber: 1,
      timestamp: 0,
      ssrc: 0,
      marker: false,
      extensions: [ext(0, 1), ext(300, 1)],
    }).length,
    12,
    'elements that fit no profile are left out (no extension block at all)',
  );
});

t.test('WireRtpHeader has what werift SRTP reads', async (t) => {
  const h = new WireRtpHeader({
    payloadType: 96,
    sequenceNumber: 65536 + 5,
    timestamp: 1,
    ssrc: -1,
    marker: false,
    extensions: [],
  });
  t.equal(h.sequenceNumber, 5);
  t.equal(h.ssrc, 0xffffffff);
  t.equal(h.serializeSize, 12);
  t.equal(h.serialize(), h.bytes, 'the same buffer every time');
});
