/**
 * Forward-path RTP header extensions: the plan takes the SUBSCRIBER's negotiated ids; a forwarded packet
 * carries only the subscriber's MID, a fresh abs-send-time, the subscriber transport's transport-wide seq and
 * the publisher's audio level under the subscriber's id, sorted by id. Publisher MID/RID/transport-cc never leak.
 */
import t from 'tap';
import {
  EXT_URI,
  absSendTime,
  findExtension,
  forwardedExtensions,
  parseAudioLevel,
  planExtensions,
  transportCcValue,
} from '../../../src/rtp/headerExtensions.js';
import type { ExtensionPlan, NegotiatedExtension, RtpExtension } from '../../../src/rtp/headerExtensions.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** A subscriber's negotiated extensions (ids chosen by the subscriber's offer/answer). */
const subscriber: NegotiatedExtension[] = [
  { uri: EXT_URI.mid, id: 9 },
  { uri: EXT_URI.absSendTime, id: 3 },
  { uri: EXT_URI.transportCc, id: 5 },
  { uri: EXT_URI.audioLevel, id: 1 },
  { uri: EXT_URI.rid, id: 10 },
  { uri: EXT_URI.repairedRid, id: 11 },
  { uri: 'urn:3gpp:video-orientation', id: 13 },
];

type PlanRow = [
  note: string,
  negotiated: NegotiatedExtension[],
  mid: string | undefined,
  want: ExtensionPlan,
];

const planRows: PlanRow[] = [
  [
    "the subscriber's ids; rid/repaired-rid/others not planned",
    subscriber,
    '2',
    { mid: { id: 9, value: ascii('2') }, absSendTimeId: 3, transportCcId: 5, audioLevelId: 1 },
  ],
  ['nothing negotiated', [], 'video0', {}],
  [
    'only rids negotiated: nothing to send',
    [
      { uri: EXT_URI.rid, id: 1 },
      { uri: EXT_URI.repairedRid, id: 2 },
    ],
    '0',
    {},
  ],
  ['no MID yet: no mid', subscriber, undefined, { absSendTimeId: 3, transportCcId: 5, audioLevelId: 1 }],
  ['empty MID: no mid', subscriber, '', { absSendTimeId: 3, transportCcId: 5, audioLevelId: 1 }],
  [
    '16-byte MID: fits a one-byte header element',
    [{ uri: EXT_URI.mid, id: 4 }],
    'abcdefghijklmnop',
    { mid: { id: 4, value: ascii('abcdefghijklmnop') } },
  ],
  ['17-byte MID: too long, not sent', [{ uri: EXT_URI.mid, id: 4 }], 'abcdefghijklmnopq', {}],
  [
    'ids outside 1..14 are skipped',
    [
      { uri: EXT_URI.mid, id: 0 },
      { uri: EXT_URI.absSendTime, id: 15 },
      { uri: EXT_URI.transportCc, id: 1.5 },
      { uri: EXT_URI.audioLevel, id: -1 },
    ],
    'm',
    {},
  ],
  [
    'an invalid id, then a valid one for the same URI: the valid one',
    [
      { uri: EXT_URI.absSendTime, id: 15 },
      { uri: EXT_URI.absSendTime, id: 14 },
    ],
    undefined,
    { absSendTimeId: 14 },
  ],
  [
    'two valid ids for one URI: the first',
    [
      { uri: EXT_URI.transportCc, id: 7 },
      { uri: EXT_URI.transportCc, id: 2 },
    ],
    undefined,
    { transportCcId: 7 },
  ],
  ['NaN id skipped', [{ uri: EXT_URI.audioLevel, id: Number.NaN }], undefined, {}],
];

t.test('planExtensions', async (t) => {
  for (const [note, negotiated, mid, want] of planRows) {
    t.strictSame(planExtensions(negotiated, mid), want, note);
  }
});

t.test('absSendTime: 24-bit 6.18 fixed-point seconds, big-endian, wraps every 64 s', async (t) => {
  const rows: [ms: number, want: number[], note: string][] = [
    [0, [0x00, 0x00, 0x00], 'zero'],
    [0.5, [0x00, 0x00, 0x83], '0.5 ms = 131.072 → 131'],
    [1, [0x00, 0x01, 0x06], '1 ms = 262.144 → 262 (floor)'],
    [4, [0x00, 0x04, 0x18], '4 ms = 1048.576 → 1048'],
    [250, [0x01, 0x00, 0x00], '1/4 s = 2^16'],
    [500, [0x02, 0x00, 0x00], '1/2 s'],
    [1000, [0x04, 0x00, 0x00], '1 s = 2^18'],
    [32_000, [0x80, 0x00, 0x00], '32 s: top bit'],
    [63_999, [0xff, 0xfe, 0xf9], '1 ms before the wrap: 2^24 - 263'],
    [64_000, [0x00, 0x00, 0x00], '64 s wraps to 0'],
    [64_001, [0x00, 0x01, 0x06], 'and continues'],
    [1_700_000_000_123, [0x00, 0x7d, 0xf3], 'a Unix time in ms (2023): no precision trouble'],
  ];
  for (const [ms, want, note] of rows) {
    t.strictSame(absSendTime(ms), Uint8Array.from(want), `${ms} ms: ${note}`);
  }
});

t.test('transportCcValue: 16-bit big-endian, masked', async (t) => {
  const rows: [seq: number, want: number[]][] = [
    [0, [0x00, 0x00]],
    [1, [0x00, 0x01]],
    [0x1234, [0x12, 0x34]],
    [0xffff, [0xff, 0xff]],
    [0x10000, [0x00, 0x00]],
    [0x10001, [0x00, 0x01]],
  ];
  for (const [seq, want] of rows) {
    t.strictSame(transportCcValue(seq), Uint8Array.from(want), `seq ${seq}`);
  }
});

t.test('forwardedExtensions: sorted by id, only what the plan negotiated', async (t) => {
  const plan = planExtensions(subscriber, '2');
  const level = Uint8Array.of(0x85);
  const full: RtpExtension[] = [
    { id: 1, payload: level },
    { id: 3, payload: Uint8Array.of(0x04, 0x00, 0x00) },
    { id: 5, payload: Uint8Array.of(0x12, 0x34) },
    { id: 9, payload: ascii('2') },
  ];
  t.strictSame(forwardedExtensions(plan, 1000, 0x1234, level), full, 'all four, in id order');
  t.strictSame(
    forwardedExtensions(plan, 1000, undefined, level),
    full.filter((e) => e.id !== 5),
    'no transport seq',
  );
  t.strictSame(forwardedExtensions(plan, 1000, 0x1234, undefined), full.slice(1), 'no audio level');
  t.strictSame(
    forwardedExtensions(plan, 1000, 0x1234, new Uint8Array(0)),
    full.slice(1),
    'empty audio level',
  );
  t.strictSame(forwardedExtensions({}, 1000, 0x1234, level), [], 'empty plan: nothing, even with values');
  const noLevel = planExtensions(
    subscriber.filter((e) => e.uri !== EXT_URI.audioLevel),
    '2',
  );
  t.strictSame(
    forwardedExtensions(noLevel, 1000, 0x1234, level),
    full.slice(1),
    'level not negotiated: not copied',
  );
  const reversed: ExtensionPlan = {
    mid: { id: 1, value: ascii('a') },
    absSendTimeId: 14,
    transportCcId: 8,
    audioLevelId: 2,
  };
  t.strictSame(
    forwardedExtensions(reversed, 0, 7, level).map((e) => e.id),
    [1, 2, 8, 14],
    'another id assignment, still sorted',
  );
});

t.test('publisher MID, RID, repaired RID and transport-cc never reach the subscriber', async (t) => {
  // The publisher negotiated its own ids; its packet carries all of them.
  const publisherIds = new Map<string, number>([
    [EXT_URI.mid, 1],
    [EXT_URI.rid, 2],
    [EXT_URI.repairedRid, 3],
    [EXT_URI.transportCc, 4],
    [EXT_URI.audioLevel, 5],
    [EXT_URI.absSendTime, 6],
  ]);
  const published: RtpExtension[] = [
    { id: 1, payload: ascii('pub-mid') },
    { id: 2, payload: ascii('f') },
    { id: 3, payload: ascii('f') },
    { id: 4, payload: Uint8Array.of(0xbe, 0xef) },
    { id: 5, payload: Uint8Array.of(0x9e) },
    { id: 6, payload: Uint8Array.of(0xaa, 0xbb, 0xcc) },
  ];
  // The subscriber's ids overlap the publisher's numbers on purpose.
  const sub: NegotiatedExtension[] = [
    { uri: EXT_URI.transportCc, id: 1 },
    { uri: EXT_URI.absSendTime, id: 2 },
    { uri: EXT_URI.mid, id: 4 },
    { uri: EXT_URI.rid, id: 5 },
    { uri: EXT_URI.audioLevel, id: 12 },
  ];
  const plan = planExtensions(sub, 'sub1');
  const level = findExtension(published, publisherIds, EXT_URI.audioLevel);
  const got = forwardedExtensions(plan, 250, 77, level);
  t.strictSame(got, [
    { id: 1, payload: Uint8Array.of(0x00, 77) }, // the subscriber transport's own seq, not 0xbeef
    { id: 2, payload: Uint8Array.of(0x01, 0x00, 0x00) }, // a fresh abs-send-time, not aabbcc
    { id: 4, payload: ascii('sub1') }, // the subscriber's MID
    { id: 12, payload: Uint8Array.of(0x9e) }, // the publisher's audio level, under the subscriber's id
  ]);
  t.notOk(
    got.some((e) => e.id === 5),
    "nothing under the subscriber's rid id",
  );
});

t.test('findExtension', async (t) => {
  const ids = new Map<string, number>([
    [EXT_URI.audioLevel, 3],
    [EXT_URI.mid, 4],
  ]);
  const exts: RtpExtension[] = [
    { id: 1, payload: Uint8Array.of(1) },
    { id: 3, payload: Uint8Array.of(0x85) },
  ];
  t.strictSame(findExtension(exts, ids, EXT_URI.audioLevel), Uint8Array.of(0x85), 'by the publisher id');
  t.equal(findExtension(exts, ids, EXT_URI.mid), undefined, 'negotiated but not in the packet');
  t.equal(findExtension(exts, ids, EXT_URI.rid), undefined, 'not negotiated (id 1 is something else)');
  t.equal(findExtension([], ids, EXT_URI.audioLevel), undefined, 'no extensions');
});

t.test('parseAudioLevel (RFC 6464)', async (t) => {
  const rows: [bytes: Uint8Array | undefined, want: { voice: boolean; level: number } | undefined][] = [
    [undefined, undefined],
    [new Uint8Array(0), undefined],
    [Uint8Array.of(0x00), { voice: false, level: 0 }],
    [Uint8Array.of(0x7f), { voice: false, level: 127 }],
    [Uint8Array.of(0x80), { voice: true, level: 0 }],
    [Uint8Array.of(0xff), { voice: true, level: 127 }],
    [Uint8Array.of(0x9e, 0x00), { voice: true, level: 30 }],
  ];
  for (const [bytes, want] of rows) {
    t.strictSame(
      parseAudioLevel(bytes),
      want,
      bytes === undefined ? 'undefined' : `byte ${Buffer.from(bytes).toString('hex')}`,
    );
  }
});

t.test('garbage input never throws', async (t) => {
  t.doesNotThrow(() => planExtensions([{ uri: '', id: Number.NaN }], 'x'.repeat(1000)));
  t.doesNotThrow(() => absSendTime(Number.NaN));
  t.doesNotThrow(() => absSendTime(-1));
  t.doesNotThrow(() => transportCcValue(-1));
  t.strictSame(transportCcValue(-1), Uint8Array.of(0xff, 0xff), '-1 masks to 0xffff');
});
