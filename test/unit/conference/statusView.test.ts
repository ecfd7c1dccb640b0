/**
 * The /status detail of conferences (statusView.ts) over fake peers: participants with their session state,
 * published tracks with their layers and bit rates, subscriptions with the forwarded layer and send rate, links
 * with their counters and relayed tracks; every list capped with the number left out; nothing secret in it.
 */
import t from 'tap';
import {
  conferencesDetail,
  conferenceStatus,
  STATUS_LIMITS,
  type StatusConference,
  type StatusLimits,
} from '../../../src/conference/statusView.js';
import type { LayerTable } from '../../../src/simulcast/layerTable.js';
import type { Publication } from '../../../src/conference/router.js';
import { FakeSource, idsOf, join, rig, type FakePeer, type Rig } from './fakes.js';

/** Three simulcast layers q/h/f with sizes and bit rates (f not flowing). */
const SIMULCAST: LayerTable = {
  ids: [0, 1, 2],
  layers: [
    { rid: 'q', size: { width: 320, height: 180 }, bitrateBps: 150_000, active: true },
    { rid: 'h', size: { width: 640, height: 360 }, bitrateBps: 500_000, active: true },
    { rid: 'f', size: { width: 1280, height: 720 }, active: false },
  ].map((l, i) => ({
    ...l,
    id: i,
    rank: i,
    ssrc: 1000 + i,
    restricted: undefined,
    measured: l.size,
    declared: undefined,
  })),
};

async function subscribeTo(r: Rig, peer: FakePeer, stream: string, track: string): Promise<void> {
  peer.client({
    op: 'subscribe',
    id: 'x',
    start: [{ stream_id: stream, track_id: track, width: 640, height: 360 }],
  });
  await r.conf.idle();
}

t.test('participants, published layers, forwarded layer and rate of one conference', async (t) => {
  const r = rig();
  const alice = await join(r, 'alice');
  const bob = await join(r, 'bob');
  alice.open();
  bob.open();
  await r.conf.idle();
  const video = bob.sources.get('1');
  if (video === undefined) {
    throw new Error('no video source');
  }
  video.table = SIMULCAST;
  await subscribeTo(r, alice, 'bob-s', 'bob-v');
  const fwd = alice.forwarded[0]!;
  fwd.used = { current: 1, target: 2 };
  fwd.rateBytesPerS = 50_000;
  bob.emit('state', 'connected');
  r.clock.advance(3000);

  const s = conferenceStatus(r.conf, STATUS_LIMITS, r.clock.now());
  t.match(s, {
    room_id: '!room:example.org',
    conf_id: 'conf1',
    participants_omitted: 0,
    links: [],
    links_omitted: 0,
  });
  t.same(
    s.participants.map((p) => [p.user_id, p.device_id, p.state, p.connected, p.since_s]),
    [
      ['@alice:example.org', 'ALICEDEV', 'answering', false, 3],
      ['@bob:example.org', 'BOBDEV', 'active', true, 3],
    ],
  );
  const bobVideo = s.participants[1]?.published.find((x) => x.kind === 'video');
  t.same(bobVideo, {
    stream_id: 'bob-s',
    track_id: 'bob-v',
    kind: 'video',
    bitrate_bps: 650_000,
    layers: [
      { rid: 'q', rank: 0, width: 320, height: 180, bitrate_bps: 150_000, active: true },
      { rid: 'h', rank: 1, width: 640, height: 360, bitrate_bps: 500_000, active: true },
      { rid: 'f', rank: 2, width: 1280, height: 720, bitrate_bps: null, active: false },
    ],
  });
  t.same(s.participants[0]?.subscriptions, [
    {
      stream_id: 'bob-s',
      track_id: 'bob-v',
      kind: 'video',
      from_user_id: '@bob:example.org',
      requested: { width: 640, height: 360 },
      layer: { rid: 'h', rank: 1, width: 640, height: 360, bitrate_bps: 500_000, active: true },
      target_layer: { rid: 'f', rank: 2, width: 1280, height: 720, bitrate_bps: null, active: false },
      bitrate_bps: 400_000,
    },
  ]);
  const text = JSON.stringify(s);
  for (const secret of ['call-alice', 's-alice', 'sfu-offer', 'answer-to', 'candidate', 'v=0']) {
    t.notOk(text.includes(secret), `no ${secret} (call ids, session ids, SDP, ICE) in the document`);
  }
});

t.test('every list is capped and says how many it left out', async (t) => {
  const limits: StatusLimits = {
    ...STATUS_LIMITS,
    conferences: 2,
    participants: 2,
    participantsTotal: 3,
    tracks: 1,
    subscriptions: 0,
  };
  const rigs = [rig(), rig(), rig()];
  for (const r of rigs) {
    for (const name of ['a', 'b', 'c']) {
      await join(r, name);
    }
  }
  const d = conferencesDetail(
    rigs.map((r) => r.conf),
    limits,
    0,
  );
  t.equal(d.conferences.length, 2);
  t.equal(d.conferences_omitted, 1);
  t.same(
    d.conferences.map((c) => [c.participants.length, c.participants_omitted]),
    [
      [2, 1],
      [1, 2],
    ],
    'two per conference, three overall',
  );
  t.equal(d.participants_omitted, 3);
  t.same(
    d.conferences[0]?.participants.map((p) => [p.published.length, p.published_omitted]),
    [
      [1, 1],
      [1, 1],
    ],
  );
  t.same(
    d.limits,
    {
      conferences: 2,
      participants: 2,
      participants_total: 3,
      tracks: 1,
      subscriptions: 0,
      links: 16,
      relayed_tracks: 32,
    },
    'the caps are in the document',
  );
});

t.test('user-controlled ids are data: kept verbatim, never interpreted', async (t) => {
  const evil = '@<img src=x onerror=alert(1)>:example.org';
  const r = rig();
  await join(r, 'mallory', idsOf('mallory', { userId: evil, deviceId: '<script>x</script>' }));
  const s = conferenceStatus(r.conf, STATUS_LIMITS, 0);
  t.equal(s.participants[0]?.user_id, evil);
  t.equal(s.participants[0]?.device_id, '<script>x</script>');
});

t.test('links: remote focus, state, counters, bit rates, estimate and relayed tracks', async (t) => {
  const source = new FakeSource('0', 'audio');
  const relayed: Publication = {
    key: '["s","a"]',
    streamId: 's',
    trackId: 'a',
    kind: 'audio',
    mid: undefined,
    sending: true,
    owner: 'relayed-key',
    origin: { kind: 'link', link: '@sfu:b.example|SFUB' },
    source,
  };
  const c: StatusConference = {
    roomId: '!r:a.example',
    confId: 'c',
    sessions: () => [],
    router: {
      publicationsOf: () => [],
      find: () => undefined,
      publishers: () => [
        {
          key: 'relayed-key',
          owner: { user_id: '@bob:b.example', device_id: 'B' },
          since: 0,
          metadata: {},
          tracks: [],
        },
      ],
      relayedOf: (link) => (link === '@sfu:b.example|SFUB' ? [relayed] : []),
    },
    links: {
      snapshot: () => [
        {
          remote: { userId: '@sfu:b.example', deviceId: 'SFUB' },
          state: 'connected',
          stats: {
            rtpIn: 10,
            rtpOut: 20,
            bytesIn: 1000,
            bytesOut: 2000,
            estimateBps: 1_234_567.8,
            budgetBps: 1_000_000,
            lastMediaAt: 5,
          },
          bitrate: { in: 8000.4, out: 16000.6 },
          sends: [
            { streamId: 's1', trackId: 'v1', kind: 'video', demanded: ['q', 'f'], sending: ['q'] },
            { streamId: 's1', trackId: 'a1', kind: 'audio', demanded: [], sending: [] },
          ],
          demand: [{ streamId: 'rs', trackId: 'rv', rids: ['h'] }],
        },
      ],
    },
  };
  const s = conferenceStatus(c, STATUS_LIMITS, 0);
  t.same(s.links, [
    {
      remote: { user_id: '@sfu:b.example', device_id: 'SFUB' },
      state: 'connected',
      rtp_in: 10,
      rtp_out: 20,
      bitrate_in_bps: 8000,
      bitrate_out_bps: 16001,
      estimate_bps: 1_234_568,
      budget_bps: 1_000_000,
      relayed: [
        {
          user_id: '@bob:b.example',
          stream_id: 's',
          track_id: 'a',
          kind: 'audio',
          bitrate_bps: 0,
          layers: [{ rid: null, rank: 0, width: null, height: null, bitrate_bps: null, active: true }],
        },
      ],
      relayed_omitted: 0,
      trunk_sends: [
        { stream_id: 's1', track_id: 'v1', kind: 'video', demanded: ['q', 'f'], sending: ['q'] },
        { stream_id: 's1', track_id: 'a1', kind: 'audio', demanded: [], sending: [] },
      ],
      trunk_sends_omitted: 0,
      demand: [{ stream_id: 'rs', track_id: 'rv', layers: ['h'] }],
      demand_omitted: 0,
    },
  ]);
});
