/**
 * media/ingest: the demux by SSRC with fake targets. Routes come from announcements (no SDP, no header
 * extension: a trunk SSRC), signalled SSRCs, or are learned from MID/RID elements and then hold for packets
 * without them; a new RID on a known SSRC re-learns it, a layer's new SSRC replaces its old one, an announced
 * route is never re-learned; bad bytes count `malformed`, unroutable ones `unknown_stream`; a failing target
 * is logged once and never throws; the number of routes is bounded.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { IngestDemux, MAX_ROUTES, type IngestTarget } from '../../../src/media/ingest.js';
import { LINK_MAX_ROUTES } from '../../../src/media/link/linkMedia.js';
import { MediaCounters } from '../../../src/media/mediaMetrics.js';
import type { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';

const MID_ID = 3;
const RID_ID = 4;
const text = (s: string) => new TextEncoder().encode(s);

function packet(ssrc: number, seq: number, ext: { mid?: string; rid?: string } = {}): Buffer {
  const extensions = [
    ...(ext.mid !== undefined ? [{ id: MID_ID, payload: text(ext.mid) }] : []),
    ...(ext.rid !== undefined ? [{ id: RID_ID, payload: text(ext.rid) }] : []),
  ];
  const head = writeRtpHeader({
    ssrc,
    sequenceNumber: seq,
    timestamp: 0,
    payloadType: 96,
    marker: false,
    extensions,
  });
  return Buffer.concat([head, Buffer.from([1, 2, 3])]);
}

class Target implements IngestTarget {
  readonly got: { ssrc: number; seq: number; rid: string | undefined }[] = [];
  handle(view: RtpPacketView, rid: string | undefined): void {
    this.got.push({ ssrc: view.ssrc, seq: view.seq, rid });
  }
}

function setup() {
  const counters = new MediaCounters();
  const lines: string[] = [];
  const log = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  );
  const demux = new IngestDemux(counters, log);
  demux.setExtensionIds(MID_ID, RID_ID);
  return { counters, lines, demux };
}

t.test('announced: an SSRC no SDP and no extension names is routed', async (t) => {
  const { counters, demux } = setup();
  const trunk = new Target();
  demux.receive(packet(4111, 1));
  t.equal(counters.dropped.unknown_stream, 1, 'before the announcement: unknown');
  demux.announce(4111, trunk, 'q');
  demux.announce(4112, trunk, 'h');
  demux.receive(packet(4111, 2));
  demux.receive(packet(4112, 3));
  t.same(trunk.got, [
    { ssrc: 4111, seq: 2, rid: 'q' },
    { ssrc: 4112, seq: 3, rid: 'h' },
  ]);
  t.equal(demux.route(4111)?.origin, 'announced');
  demux.receive(packet(4111, 4, { rid: 'f' }));
  t.equal(trunk.got.at(-1)?.rid, 'q', 'a RID element never re-learns an announced route');
  demux.forget(4112);
  demux.receive(packet(4112, 5));
  t.equal(counters.dropped.unknown_stream, 2, 'forgotten: unknown again');
});

t.test('signalled SSRCs are routed without extensions', async (t) => {
  const { counters, demux } = setup();
  const audio = new Target();
  demux.bind('0', audio, [], [1001]);
  demux.receive(packet(1001, 7));
  t.same(audio.got, [{ ssrc: 1001, seq: 7, rid: undefined }]);
  t.equal(demux.route(1001)?.origin, 'signalled');
  demux.receive(packet(1002, 8));
  t.equal(counters.dropped.unknown_stream, 1, 'an SSRC nobody signalled, without MID/RID');
});

t.test('learned from MID and RID, then routed by SSRC alone', async (t) => {
  const { demux } = setup();
  const audio = new Target();
  const video = new Target();
  demux.bind('0', audio, [], []);
  demux.bind('1', video, ['q', 'h', 'f'], []);
  demux.receive(packet(10, 1, { mid: '1', rid: 'h' }));
  demux.receive(packet(10, 2)); // the sender stopped sending MID/RID (acknowledged)
  demux.receive(packet(20, 1, { mid: '0' }));
  demux.receive(packet(20, 2));
  demux.receive(packet(30, 1, { rid: 'q' })); // RID alone names the track too (RIDs are unique per connection)
  t.same(video.got, [
    { ssrc: 10, seq: 1, rid: 'h' },
    { ssrc: 10, seq: 2, rid: 'h' },
    { ssrc: 30, seq: 1, rid: 'q' },
  ]);
  t.same(audio.got, [
    { ssrc: 20, seq: 1, rid: undefined },
    { ssrc: 20, seq: 2, rid: undefined },
  ]);
  t.equal(demux.route(10)?.origin, 'learned');
});

t.test('re-learning: a new RID on a known SSRC, a layer on a new SSRC', async (t) => {
  const { demux } = setup();
  const video = new Target();
  demux.bind('1', video, ['q', 'h'], []);
  demux.receive(packet(10, 1, { mid: '1', rid: 'q' }));
  demux.receive(packet(10, 2, { mid: '1', rid: 'h' }));
  t.equal(video.got.at(-1)?.rid, 'h', 'the RID on the packet wins over the learned one');
  demux.receive(packet(11, 3, { mid: '1', rid: 'h' })); // the h encoder restarted on a new SSRC
  t.equal(demux.route(10), undefined, "the layer's old SSRC is forgotten");
  t.equal(demux.route(11)?.rid, 'h');
  const signalled = new Target();
  demux.bind('2', signalled, [], [50]);
  demux.receive(packet(50, 1, { mid: '2', rid: 'x' }));
  t.equal(signalled.got.at(-1)?.rid, 'x', 'a signalled route learns the RID its packets carry');
});

t.test('unknown MID, no negotiated ids, unbind: not routed', async (t) => {
  const { counters, demux } = setup();
  const video = new Target();
  demux.bind('1', video, ['q'], []);
  demux.receive(packet(10, 1, { mid: '9' }));
  t.equal(counters.dropped.unknown_stream, 1, 'a MID no m-line has');
  demux.setExtensionIds(undefined, undefined);
  demux.receive(packet(11, 1, { mid: '1', rid: 'q' }));
  t.equal(counters.dropped.unknown_stream, 2, 'MID/RID not negotiated: not read');
  demux.setExtensionIds(MID_ID, RID_ID);
  demux.receive(packet(11, 2, { mid: '1', rid: 'q' }));
  t.equal(video.got.length, 1);
  demux.unbind(video);
  demux.receive(packet(11, 3));
  demux.receive(packet(12, 3, { mid: '1' }));
  t.equal(counters.dropped.unknown_stream, 4, 'after unbind neither its routes nor its MID route');
  t.equal(video.got.length, 1);
});

t.test('bad bytes are malformed; a failing target is logged once; nothing throws', async (t) => {
  const { counters, lines, demux } = setup();
  t.doesNotThrow(() => {
    demux.receive(Buffer.from([0x80, 96, 0]));
    demux.receive(Buffer.from([0x40, ...packet(1, 1).subarray(1)]));
  });
  t.equal(counters.dropped.malformed, 2, 'truncated and version 1');
  const bad: IngestTarget = {
    handle() {
      throw new Error('boom');
    },
  };
  demux.announce(5, bad);
  t.doesNotThrow(() => {
    for (let i = 0; i < 5; i++) {
      demux.receive(packet(5, i));
    }
  });
  t.equal(lines.filter((l) => l.includes('forwarding failed for a packet')).length, 1, 'one log line');
  const big = Buffer.concat([Buffer.from([9, 9]), packet(5, 9), Buffer.from([9])]);
  const seen = new Target();
  demux.announce(5, seen);
  demux.receive(big, 2, big.length - 3);
  t.same(seen.got, [{ ssrc: 5, seq: 9, rid: undefined }], 'a packet inside a larger buffer');
});

t.test('the number of routes is bounded', async (t) => {
  const { counters, lines, demux } = setup();
  const video = new Target();
  demux.bind('1', video, [], []);
  for (let i = 0; i < MAX_ROUTES + 10; i++) {
    demux.receive(packet(1000 + i, 1, { mid: '1', rid: `r${i}` }));
  }
  t.equal(demux.routeCount, MAX_ROUTES);
  t.equal(counters.dropped.unknown_stream, 10, 'beyond the bound: dropped');
  t.equal(lines.filter((l) => l.includes('too many RTP streams')).length, 1, 'logged once');
});

t.test('a larger bound for a link: announced trunk SSRCs up to LINK_MAX_ROUTES, then dropped', async (t) => {
  const counters = new MediaCounters();
  const demux = new IngestDemux(counters, pino({ level: 'silent' }), LINK_MAX_ROUTES);
  const target = new Target();
  for (let i = 0; i < LINK_MAX_ROUTES + 5; i++) {
    demux.announce(0x7000_0000 + i, target, 'q');
  }
  t.equal(demux.routeCount, LINK_MAX_ROUTES, 'the link bound, not the client one');
  demux.receive(packet(0x7000_0000 + LINK_MAX_ROUTES + 1, 1));
  t.equal(counters.dropped.unknown_stream, 1, 'beyond it: not routed');
});

t.test('settles the turn end after each packet it forwards, after the target handled it', async (t) => {
  const events: string[] = [];
  const demux = new IngestDemux(new MediaCounters(), pino({ level: 'silent' }), MAX_ROUTES, {
    settle: () => events.push('settle'),
  });
  demux.announce(
    7,
    {
      handle: (view) => {
        events.push(`handle ${view.seq}`);
      },
    },
    undefined,
  );
  demux.receive(packet(7, 1));
  demux.receive(packet(7, 2));
  t.same(events, ['handle 1', 'settle', 'handle 2', 'settle']);
});
