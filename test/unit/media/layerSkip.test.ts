/**
 * media/layerSkip: when a still-encrypted packet of a layer may be dropped unread, and what is counted then.
 * Table rows: every condition that forces decryption (inactive, another SSRC, size unknown, never or too long
 * ago decrypted, a keyframe asked for lately, a sink that takes the layer, a sink that cannot say), and the
 * skip itself (counted on the layer: arrival, bytes without the tag, reception statistics across the sequence
 * wrap; loss tracking restarted; a padded packet counts as received but not as arrival or bytes). Then ingest.skip on real SRTP bytes: routes, RID changes, targets.
 */
import t from 'tap';
import { RtpHeader, SrtpSession } from 'werift';
import { IngestDemux, type IngestTarget } from '../../../src/media/ingest.js';
import { DECRYPT_EVERY_MS, KEYFRAME_GRACE_MS, skipUnwatched } from '../../../src/media/layerSkip.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import type { TrackSink } from '../../../src/media/track.js';
import type { Layer } from '../../../src/media/trackLayers.js';
import { NackGenerator } from '../../../src/rtp/nackGenerator.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { ReceptionStats } from '../../../src/rtp/receptionStats.js';
import { pino } from 'pino';

const SSRC = 0xabc0_0001;
const NOW = 100_000;

function layer(over: Partial<Layer> = {}): Layer {
  return {
    id: 2,
    rid: 'f',
    ssrc: SSRC,
    lastPacketAt: NOW - 10,
    active: true,
    measured: { width: 1280, height: 720 },
    restricted: undefined,
    windowStart: NOW - 500,
    windowBytes: 0,
    bitrateBps: undefined,
    sr: undefined,
    nack: new NackGenerator(),
    reception: undefined,
    decryptedAt: NOW - 100,
    keyframeAskedAt: undefined,
    ...over,
  };
}

const sink = (wants: number[] | undefined): TrackSink => ({
  onPacket: () => undefined,
  onLayersChanged: () => undefined,
  onTrackClosed: () => undefined,
  ...(wants === undefined ? {} : { wantsLayer: (id: number) => wants.includes(id) }),
});

/** An SRTP-shaped packet: 12-byte header, `payload` bytes, a 10-byte tag. */
function packet(seq: number, ssrc = SSRC, payload = 100): RtpPacketView {
  const b = Buffer.alloc(12 + payload + 10);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 3000, 4);
  b.writeUInt32BE(ssrc, 8);
  const v = new RtpPacketView();
  v.reset(b);
  return v;
}

t.test('what forces decryption, and the skip', async (t) => {
  const rows: [string, Partial<Layer>, (number[] | undefined)[], boolean][] = [
    ['an unwatched, flowing, sized layer decrypted lately: skipped', {}, [[0], [1]], true],
    ['no sink at all: skipped', {}, [], true],
    [
      'size from the a=rid restriction only: skipped',
      { measured: undefined, restricted: { width: 1280, height: 720 } },
      [],
      true,
    ],
    ['inactive (a stall): decrypted, the full path re-activates it', { active: false }, [], false],
    ['bound to another SSRC: decrypted', { ssrc: SSRC + 1 }, [], false],
    ['size unknown (measured from keyframes): decrypted', { measured: undefined }, [], false],
    ['never decrypted on this SSRC: decrypted', { decryptedAt: undefined }, [], false],
    [
      `decrypted ${DECRYPT_EVERY_MS} ms ago: decrypted (rollover counter, authenticity)`,
      { decryptedAt: NOW - DECRYPT_EVERY_MS },
      [],
      false,
    ],
    ['a keyframe asked for lately: decrypted', { keyframeAskedAt: NOW - KEYFRAME_GRACE_MS + 1 }, [], false],
    ['a keyframe asked for long ago: skipped', { keyframeAskedAt: NOW - KEYFRAME_GRACE_MS }, [], true],
    ['a sink takes the layer: decrypted', {}, [[0], [2]], false],
    ['a sink that cannot say: decrypted', {}, [[0], undefined], false],
  ];
  for (const [name, over, sinks, skipped] of rows) {
    const l = layer(over);
    const counters = new MediaCounters();
    const got = skipUnwatched(l, sinks.map(sink), packet(7), 10, NOW, counters);
    t.equal(got, skipped, name);
    t.equal(counters.unwatchedSkipped, skipped ? 1 : 0, `${name}: counted iff skipped`);
    t.equal(l.lastPacketAt, skipped ? NOW : (over.lastPacketAt ?? NOW - 10), `${name}: arrival iff skipped`);
  }
});

t.test(
  'a skip counts on the layer: bytes without the tag, reception across the wrap, loss tracking restarted',
  async (t) => {
    const stats = new ReceptionStats(SSRC, 90000);
    const l = layer({ reception: stats });
    const counters = new MediaCounters();
    for (const seq of [65534, 65535, 0, 1]) {
      t.ok(skipUnwatched(l, [], packet(seq, SSRC, 200), 10, NOW, counters));
    }
    t.equal(l.windowBytes, 4 * 200, 'payload bytes, the 10-byte tag left out');
    t.equal(l.nack, undefined, 'loss tracking restarts when the layer is taken again');
    const r = stats.report(NOW);
    t.equal(r?.extendedHighestSeq, 65536 + 1, 'the highest sequence number went across the wrap');
    t.equal(r?.cumulativeLost, 0, 'nothing lost');
    t.equal(counters.packets.in_video, 4, 'counted as received video');
  },
);

t.test('a padded packet (P bit, in the clear) is skipped as padding: no arrival, no bytes', async (t) => {
  const stats = new ReceptionStats(SSRC, 90000);
  const l = layer({ reception: stats, lastPacketAt: NOW - 1500 });
  const counters = new MediaCounters();
  const p = packet(9, SSRC, 200);
  const b = p.buffer.subarray(p.offset, p.offset + 12 + 200 + 10);
  b[0] = 0xa0; // V=2, P=1
  b[b.length - 1] = 50; // the datagram's last byte (the tag's), read as a padding count before decryption
  p.reset(b);
  t.ok(p.paddingLength > 0, 'the view sees the P bit');
  t.ok(skipUnwatched(l, [], p, 10, NOW, counters), 'skipped');
  t.equal(l.lastPacketAt, NOW - 1500, 'no arrival: padding keeps a paused layer from looking alive');
  t.equal(l.windowBytes, 0, 'no bytes');
  t.equal(stats.report(NOW)?.extendedHighestSeq, 9, 'still received, for the receiver reports');
});

t.test('ingest.skip: real SRTP bytes, routes and RIDs', async (t) => {
  const key = Buffer.alloc(16, 1);
  const salt = Buffer.alloc(14, 2);
  const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };
  const srtp = new SrtpSession({ keys, profile: 0x0001 });
  const counters = new MediaCounters();
  const demux = new IngestDemux(counters, pino({ level: 'silent' }));
  demux.setExtensionIds(undefined, 10);
  const seen: string[] = [];
  const skipping: IngestTarget = {
    handle: () => undefined,
    skip: (v, overhead) => (seen.push(`${v.ssrc}/${v.seq}/${overhead}`), true),
  };
  const plain: IngestTarget = { handle: () => undefined };
  const enc = (ssrc: number, seq: number, rid?: string) => {
    const h = new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: 1, ssrc });
    if (rid !== undefined) {
      h.extension = true;
      h.extensionProfile = 0xbede;
      h.extensions = [{ id: 10, payload: Buffer.from(rid) }];
    }
    return srtp.encrypt(Buffer.alloc(50, 9), h);
  };
  t.notOk(demux.skip(enc(1, 1), 10), 'no route: decrypt');
  demux.announce(1, skipping, 'f');
  t.ok(demux.skip(enc(1, 2), 10), 'a route whose target skips');
  t.same(seen, ['1/2/10'], 'the target saw the clear header and the overhead');
  demux.bind('0', skipping, ['h'], [2]);
  t.ok(demux.skip(enc(2, 3), 10), 'a signalled SSRC');
  t.notOk(demux.skip(enc(2, 4, 'q'), 10), 'a RID other than the route: decrypt (to learn it)');
  demux.announce(3, plain);
  t.notOk(demux.skip(enc(3, 5), 10), 'a target that never skips');
  t.notOk(demux.skip(Buffer.from([0x80, 96, 0]), 10), 'not RTP-shaped: decrypt (and fail there)');
  const throwing: IngestTarget = {
    handle: () => undefined,
    skip: () => {
      throw new Error('bug');
    },
  };
  demux.announce(4, throwing);
  t.notOk(demux.skip(enc(4, 6), 10), 'a throwing target: decrypt');
});
