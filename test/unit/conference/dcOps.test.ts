/**
 * The data-channel ops with fake peers (protocol.md §5.2–§5.4, §6): every op of dialect A and every event of
 * dialect B, the replies (ack, answer, SFU offer) and the errors with their §5.3 errcodes.
 */
import t from 'tap';
import { FLOOD_FACTOR, OFFER_BURST, OFFERS_PER_SECOND } from '../../../src/conference/dcOps.js';
import { FOCUS, join, meta, rig, sdpOf, type FakePeer, type MLine, type Rig } from './fakes.js';

interface Pair {
  r: Rig;
  alice: FakePeer;
  bob: FakePeer;
}

/** Alice and Bob in one conference, both data channels open, alice speaking `dialect`, nothing pending. */
async function pair(dialect: 'A' | 'B'): Promise<Pair> {
  const r = rig();
  const alice = await join(r, 'alice');
  const bob = await join(r, 'bob');
  alice.open();
  bob.open();
  if (dialect === 'A') {
    alice.client({ op: 'alive' }); // the switch to A resends the snapshot in A
  }
  await r.conf.idle();
  alice.sent();
  bob.sent();
  r.signal.take();
  r.metrics.calls.length = 0;
  return { r, alice, bob };
}

async function say(p: Pair, peer: FakePeer, msg: unknown): Promise<Record<string, unknown>[]> {
  peer.client(msg);
  await p.r.conf.idle();
  return peer.sent();
}

const av = (name: string): MLine[] => [
  { kind: 'audio', stream: `${name}-s`, track: `${name}-a` },
  { kind: 'video', stream: `${name}-s`, track: `${name}-v` },
];

t.test('on open: the snapshot of the others, in dialect B until the client speaks', async (t) => {
  const r = rig();
  await join(r, 'alice');
  const bob = await join(r, 'bob');
  bob.open();
  await r.conf.idle();
  t.match(bob.sent(), [
    { type: 'm.call.sdp_stream_metadata_changed', content: { sdp_stream_metadata: { 'alice-s': {} } } },
  ]);
});

t.test(
  'A subscribe: ack, forwarding from the publisher, then an SFU offer; a resize only re-picks',
  async (t) => {
    const p = await pair('A');
    const out = await say(p, p.alice, {
      op: 'subscribe',
      id: '7',
      start: [{ stream_id: 'bob-s', track_id: 'bob-v', width: 640, height: 360 }],
    });
    t.match(out, [
      { op: 'ack', id: '7' },
      { op: 'offer', id: 'sfu-1', sdp: 'sfu-offer-1' },
    ]);
    t.match(out[1], { metadata: { 'bob-s': { tracks: { 'bob-v': { kind: 'video' } } } } });
    t.equal(p.alice.forwarded[0]?.source, p.bob.sources.get('1'));
    t.same(
      await say(p, p.alice, {
        op: 'select',
        id: '8',
        start: [{ stream_id: 'bob-s', track_id: 'bob-v', width: 320, height: 180 }],
      }),
      [{ op: 'ack', id: '8' }],
    );
    t.same(p.alice.forwarded[0]?.requested, [[320, 180]]);
    t.equal(p.alice.offers, 1, 'no renegotiation for a resize');
  },
);

t.test('A subscribe errors: M_NOT_FOUND with failed, M_INVALID_PARAM for one’s own track', async (t) => {
  const p = await pair('A');
  const out = await say(p, p.alice, {
    op: 'subscribe',
    id: '9',
    start: [
      { stream_id: 'bob-s', track_id: 'bob-a' },
      { stream_id: 'carol-s', track_id: 'carol-a' },
    ],
  });
  t.match(out, [
    {
      op: 'error',
      id: '9',
      errcode: 'M_NOT_FOUND',
      error: 'unknown track carol-a',
      failed: [{ stream_id: 'carol-s', track_id: 'carol-a' }],
    },
    { op: 'offer' },
  ]);
  t.equal(p.alice.slots.length, 1, 'the available track was still added');
  t.match(
    await say(p, p.alice, {
      op: 'subscribe',
      id: '10',
      start: [{ stream_id: 'alice-s', track_id: 'alice-a' }],
    }),
    [
      {
        op: 'error',
        id: '10',
        errcode: 'M_INVALID_PARAM',
        failed: [{ stream_id: 'alice-s', track_id: 'alice-a' }],
      },
    ],
  );
});

t.test(
  'A unsubscribe: ack and release (SFU offer after the outstanding one); unknown tracks are a no-op',
  async (t) => {
    const p = await pair('A');
    await say(p, p.alice, { op: 'subscribe', id: '1', start: [{ stream_id: 'bob-s', track_id: 'bob-a' }] });
    await say(p, p.alice, { op: 'answer', id: 'sfu-1', sdp: 'client-answer-1' });
    t.same(p.alice.acceptedAnswers, ['client-answer-1']);
    const out = await say(p, p.alice, {
      op: 'unsubscribe',
      id: '2',
      stop: [{ stream_id: 'bob-s', track_id: 'bob-a' }],
    });
    t.match(out, [
      { op: 'ack', id: '2' },
      { op: 'offer', id: 'sfu-2' },
    ]);
    t.equal(p.alice.slots[0]?.active, false);
    t.same(await say(p, p.alice, { op: 'unsubscribe', id: '3', stop: [{ stream_id: 'x', track_id: 'y' }] }), [
      { op: 'ack', id: '3' },
    ]);
  },
);

t.test('A publish: metadata merged first, answer with the id, the others told', async (t) => {
  const p = await pair('A');
  const sdp = sdpOf([...av('alice'), { kind: 'video', stream: 'alice-scr', track: 'alice-sv' }], 2);
  const out = await say(p, p.alice, {
    op: 'publish',
    id: '11',
    sdp,
    metadata: meta('alice-scr', { 'alice-sv': 'video' }, { purpose: 'm.screenshare' }),
  });
  t.match(out, [{ op: 'answer', id: '11', sdp: `answer-to:${sdp.length}`, metadata: { 'bob-s': {} } }]);
  t.match(p.bob.sent(), [
    {
      type: 'm.call.sdp_stream_metadata_changed',
      content: {
        sdp_stream_metadata: { 'alice-scr': { purpose: 'm.screenshare', tracks: { 'alice-sv': {} } } },
      },
    },
  ]);
  t.same(p.r.metrics.calls, ['dc:A:publish:ok', 'reneg:client:answered']);
});

t.test('A publish/offer errors: a track someone else publishes, an SDP that fails to apply', async (t) => {
  const p = await pair('A');
  t.match(
    await say(p, p.alice, {
      op: 'publish',
      id: '12',
      sdp: sdpOf([...av('alice'), ...av('bob')]),
      metadata: {},
    }),
    [
      {
        op: 'error',
        id: '12',
        errcode: 'M_INVALID_PARAM',
        error: 'track bob-a of stream bob-s is already published by someone else',
      },
    ],
  );
  t.match(await say(p, p.alice, { op: 'offer', id: '13', sdp: 'v=0\r\nBAD\r\n' }), [
    { op: 'error', id: '13', errcode: 'M_INVALID_PARAM', error: /^the offer could not be applied/ },
  ]);
});

t.test(
  'A unpublish: without sdp → ack, dropped from metadata, subscribers released; with sdp → answer',
  async (t) => {
    const p = await pair('A');
    await say(p, p.bob, { op: 'subscribe', id: '1', start: [{ stream_id: 'alice-s', track_id: 'alice-v' }] });
    await say(p, p.bob, { op: 'answer', id: 'sfu-1', sdp: 'ok' });
    // Its whole stream: a stream left with metadata keeps its applied tracks available (§6, kind from the m-line).
    const stop = [
      { stream_id: 'alice-s', track_id: 'alice-a' },
      { stream_id: 'alice-s', track_id: 'alice-v' },
    ];
    t.same(await say(p, p.alice, { op: 'unpublish', id: '14', stop }), [{ op: 'ack', id: '14' }]);
    t.same(p.bob.sent(), [
      { op: 'metadata', metadata: {} },
      { op: 'offer', id: 'sfu-2', sdp: 'sfu-offer-2', metadata: {} },
    ]);
    t.equal(p.bob.slots[0]?.active, false, 'bob’s forwarding of alice-v ended');
    t.equal(p.bob.forwarded[0]?.closed, true);
    const sdp = sdpOf([{ kind: 'audio', stream: 'alice-s', track: 'alice-a', direction: 'inactive' }], 3);
    t.match(await say(p, p.alice, { op: 'unpublish', id: '15', stop: [stop[0]], sdp }), [
      { op: 'answer', id: '15', sdp: `answer-to:${sdp.length}` },
    ]);
  },
);

t.test(
  'A unpublish of one track of a stream stops that track at once; its stream stays (§5.2)',
  async (t) => {
    const p = await pair('A');
    await say(p, p.bob, {
      op: 'subscribe',
      id: '1',
      start: [
        { stream_id: 'alice-s', track_id: 'alice-v' },
        { stream_id: 'alice-s', track_id: 'alice-a' },
      ],
    });
    await say(p, p.bob, { op: 'answer', id: 'sfu-1', sdp: 'ok' });
    const forwarded = [...p.bob.forwarded];
    t.equal(forwarded.length, 2);
    t.same(
      await say(p, p.alice, {
        op: 'unpublish',
        id: '14',
        stop: [{ stream_id: 'alice-s', track_id: 'alice-v' }],
      }),
      [{ op: 'ack', id: '14' }],
    );
    const sent = p.bob.sent();
    t.match(sent[0], { op: 'metadata', metadata: { 'alice-s': { tracks: { 'alice-a': {} } } } });
    t.notOk(
      Object.keys(
        (sent[0] as { metadata: Record<string, { tracks: object }> }).metadata['alice-s']?.tracks ?? {},
      ).includes('alice-v'),
      'alice-v is gone from bob’s metadata',
    );
    t.match(sent[1], { op: 'offer' }, 'bob gets an SFU offer for the released m-line');
    const video = forwarded.find((f) => f.slot.kind === 'video');
    const audio = forwarded.find((f) => f.slot.kind === 'audio');
    t.equal(video?.closed, true, 'alice-v forwarding ended');
    t.equal(audio?.closed, false, 'alice-a still forwarded');
    t.match(
      await say(p, p.bob, {
        op: 'subscribe',
        id: '2',
        start: [{ stream_id: 'alice-s', track_id: 'alice-v' }],
      }),
      [{ op: 'error', id: '2', errcode: 'M_NOT_FOUND' }],
      'an unpublished track cannot be subscribed',
    );
  },
);

t.test(
  'A offer during an outstanding SFU offer: rolled back, answered, re-offered (the SFU is polite)',
  async (t) => {
    const p = await pair('A');
    await say(p, p.alice, { op: 'subscribe', id: '1', start: [{ stream_id: 'bob-s', track_id: 'bob-a' }] });
    const out = await say(p, p.alice, { op: 'offer', id: '16', sdp: sdpOf(av('alice'), 2) });
    t.equal(p.alice.rollbacks, 1);
    t.match(out, [
      { op: 'answer', id: '16' },
      { op: 'offer', id: 'sfu-2' },
    ]);
    t.match(await say(p, p.alice, { op: 'answer', id: 'sfu-1', sdp: 'late' }), [
      { op: 'error', id: 'sfu-1', errcode: 'M_INVALID_PARAM', error: 'answer to a stale offer' },
    ]);
    t.same(await say(p, p.alice, { op: 'answer', id: 'sfu-2', sdp: 'fine' }), []);
    t.match(await say(p, p.alice, { op: 'answer', id: 'sfu-2', sdp: 'again' }), [
      { op: 'error', errcode: 'M_INVALID_PARAM', error: 'no SFU offer is pending' },
    ]);
    t.same(p.alice.acceptedAnswers, ['fine']);
    t.ok(p.r.metrics.calls.includes('reneg:sfu:rolled_back'));
  },
);

t.test(
  'renegotiations per session: OFFER_BURST at once, then one a second; over it M_LIMIT_EXCEEDED',
  async (t) => {
    const p = await pair('A');
    const results: string[] = [];
    for (let i = 0; i < OFFER_BURST + 2; i++) {
      const [out] = await say(p, p.alice, { op: 'offer', id: `o${i}`, sdp: 'v=0\r\nBAD\r\n' });
      results.push(String(out?.['errcode']));
    }
    t.same(
      results,
      [...new Array<string>(OFFER_BURST).fill('M_INVALID_PARAM'), 'M_LIMIT_EXCEEDED', 'M_LIMIT_EXCEEDED'],
      'the burst is worked on (the SDP fails to apply), the rest refused unparsed',
    );
    p.r.clock.advance(1000 / OFFERS_PER_SECOND);
    const [next] = await say(p, p.alice, { op: 'offer', id: 'later', sdp: 'v=0\r\nBAD\r\n' });
    t.equal(next?.['errcode'], 'M_INVALID_PARAM', 'a second later one more is worked on');
    const bobs = (await say(p, p.bob, { op: 'offer', id: 'b', sdp: 'v=0\r\nBAD\r\n' })).find(
      (m) => m['id'] === 'b',
    );
    t.equal(bobs?.['errcode'], 'M_INVALID_PARAM', 'another session has its own budget');
    t.ok(p.r.metrics.calls.includes('reneg:client:rate_limited'), 'counted');
  },
);

t.test(
  'a renegotiation flood: refused offers pile up; past FLOOD_FACTOR × the burst a hangup M_LIMIT_EXCEEDED, once',
  async (t) => {
    const p = await pair('A');
    const errcodes: string[] = [];
    const bound = FLOOD_FACTOR * OFFER_BURST;
    for (let i = 0; i < OFFER_BURST + bound + 3; i++) {
      for (const m of await say(p, p.alice, { op: 'offer', id: `o${i}`, sdp: 'v=0\r\nBAD\r\n' })) {
        errcodes.push(String(m['errcode']));
      }
    }
    t.same(
      errcodes,
      [
        ...new Array<string>(OFFER_BURST).fill('M_INVALID_PARAM'),
        ...new Array<string>(bound).fill('M_LIMIT_EXCEEDED'),
      ],
      `the burst worked on, ${bound} refused with an error each, then nothing more answered`,
    );
    const hangups = p.r.signal.take().filter((x) => x.type === 'm.call.hangup');
    t.equal(hangups.length, 1, 'one hangup');
    t.match(hangups[0]?.content, {
      reason: 'unknown_error',
      'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED', error: /renegotiations/ },
    });
    t.ok(
      p.r.logs.some((l) => /renegotiations .* far over the budget/.test(String(l.msg))),
      'logged once as a flood',
    );
  },
);

t.test(
  'renegotiating twice as fast as allowed is hung up only after the pile grows past the bound',
  async (t) => {
    const p = await pair('A');
    let hungUpAt: number | undefined;
    // Two offers a second for 60 s: one refused a second, half of one forgiven: the pile grows by 0.5 a second.
    for (let s = 0; s < 60 && hungUpAt === undefined; s++) {
      for (const half of [0, 1]) {
        await say(p, p.alice, { op: 'offer', id: `o${s}-${half}`, sdp: 'v=0\r\nBAD\r\n' });
        p.r.clock.advance(500);
      }
      if (p.r.signal.take().some((x) => x.type === 'm.call.hangup')) {
        hungUpAt = s;
      }
    }
    // The burst lasts ≈ 5 s, then 0.5 a second piles up: past 20 after ≈ 45 s.
    t.ok(
      hungUpAt !== undefined && hungUpAt >= 30,
      `hung up, but not within 30 s (at ${String(hungUpAt ?? 'never in 60 s')})`,
    );
  },
);

t.test('A answer that fails to apply: M_INVALID_PARAM', async (t) => {
  const p = await pair('A');
  await say(p, p.alice, { op: 'subscribe', id: '1', start: [{ stream_id: 'bob-s', track_id: 'bob-a' }] });
  t.match(await say(p, p.alice, { op: 'answer', id: 'sfu-1', sdp: 'BAD' }), [
    { op: 'error', id: 'sfu-1', errcode: 'M_INVALID_PARAM', error: /^the answer could not be applied/ },
  ]);
});

t.test('A metadata: ack, merged, broadcast (mute reaches the published track); alive: ack', async (t) => {
  const p = await pair('A');
  t.same(
    await say(p, p.alice, {
      op: 'metadata',
      id: '17',
      metadata: meta('alice-s', { 'alice-a': 'audio', 'alice-v': 'video' }, { audio_muted: true }),
    }),
    [{ op: 'ack', id: '17' }],
  );
  t.match(p.bob.sent(), [
    {
      type: 'm.call.sdp_stream_metadata_changed',
      content: { sdp_stream_metadata: { 'alice-s': { audio_muted: true } } },
    },
  ]);
  t.equal(p.alice.sources.get('0')?.muted, true);
  t.same(await say(p, p.alice, { op: 'alive', id: '18' }), [{ op: 'ack', id: '18' }]);
  t.same(await say(p, p.alice, { op: 'alive' }), [], 'no id, no ack');
});

t.test(
  'A connect: M_FORBIDDEN for a focus no member names; M_UNKNOWN when its invite cannot be sent',
  async (t) => {
    const p = await pair('A');
    const other = { user_id: '@sfu:other.example', device_id: 'OTHERDEV' };
    t.match(await say(p, p.alice, { op: 'connect', id: '19', foci: [other] }), [
      { op: 'error', id: '19', errcode: 'M_FORBIDDEN', error: /@sfu:other.example\/OTHERDEV/ },
    ]);
    p.r.oracle.foci = [FOCUS, other];
    p.r.oracle.presence = [
      { focus: FOCUS, liveMembers: 2 },
      { focus: other, liveMembers: 1 },
    ];
    // This rig has no link media: the invite cannot be created (linkCalls.test.ts covers real invites).
    t.match(await say(p, p.alice, { op: 'connect', id: '20', foci: [other] }), [
      { op: 'error', id: '20', errcode: 'M_UNKNOWN', error: /@sfu:other.example\/OTHERDEV/ },
    ]);
    t.same(
      await say(p, p.alice, { op: 'connect', id: '20b', foci: [FOCUS] }),
      [{ op: 'ack', id: '20b' }],
      'self',
    );
  },
);

t.test('bad frames: M_NOT_JSON, M_BAD_JSON (with the id), M_LIMIT_EXCEEDED', async (t) => {
  const p = await pair('A');
  t.match(await say(p, p.alice, '{nope'), [{ op: 'error', errcode: 'M_NOT_JSON' }]);
  t.match(await say(p, p.alice, { op: 'dance', id: '21' }), [
    { op: 'error', id: '21', errcode: 'M_BAD_JSON' },
  ]);
  t.match(await say(p, p.alice, { op: 'subscribe', id: '22' }), [
    { op: 'error', id: '22', errcode: 'M_BAD_JSON' },
  ]);
  t.match(await say(p, p.alice, { op: 'alive', pad: 'x'.repeat(70_000) }), [
    { op: 'error', errcode: 'M_LIMIT_EXCEEDED' },
  ]);
  const many = Array.from({ length: 201 }, (_, i) => ({ stream_id: 's', track_id: `t${i}` }));
  t.match(await say(p, p.alice, { op: 'subscribe', id: '23', start: many }), [
    { op: 'error', id: '23', errcode: 'M_LIMIT_EXCEEDED' },
  ]);
  p.alice.emit('dcmessage', new Uint8Array([1, 2, 3]));
  await p.r.conf.idle();
  t.match(p.alice.sent(), [{ op: 'error', errcode: 'M_NOT_JSON' }]);
});

t.test('B track_subscription: unsubscribes first, no ack, errors as org.matrix.msc3898.error', async (t) => {
  const p = await pair('B');
  const out = await say(p, p.alice, {
    type: 'm.call.track_subscription',
    content: { subscribe: [{ stream_id: 'bob-s', track_id: 'bob-a' }] },
  });
  t.match(out, [
    { type: 'm.call.negotiate', content: { description: { type: 'offer', sdp: 'sfu-offer-1' } } },
  ]);
  await say(p, p.alice, {
    type: 'm.call.negotiate',
    content: { description: { type: 'answer', sdp: 'b-answer' } },
  });
  t.same(p.alice.acceptedAnswers, ['b-answer']);
  const both = await say(p, p.alice, {
    type: 'm.call.track_subscription',
    content: {
      subscribe: [{ stream_id: 'bob-s', track_id: 'bob-a' }],
      unsubscribe: [{ stream_id: 'bob-s', track_id: 'bob-a' }],
    },
  });
  t.match(both, [{ type: 'm.call.negotiate' }], 'released then added again: one new offer');
  t.equal(p.alice.slots.length, 2);
  t.equal(p.alice.slots[0]?.active, false);
  t.match(
    await say(p, p.alice, {
      type: 'm.call.track_subscription',
      content: { subscribe: [{ stream_id: 'carol-s', track_id: 'carol-v' }] },
    }),
    [
      {
        type: 'org.matrix.msc3898.error',
        content: { errcode: 'M_NOT_FOUND', failed: [{ track_id: 'carol-v' }] },
      },
    ],
  );
});

t.test(
  'B negotiate offer: answered by m.call.negotiate with metadata; a late answer is only logged',
  async (t) => {
    const p = await pair('B');
    const out = await say(p, p.alice, {
      type: 'm.call.negotiate',
      content: {
        description: { type: 'offer', sdp: sdpOf(av('alice'), 2) },
        sdp_stream_metadata: meta(
          'alice-s',
          { 'alice-a': 'audio', 'alice-v': 'video' },
          { video_muted: true },
        ),
      },
    });
    t.match(out, [
      {
        type: 'm.call.negotiate',
        content: { description: { type: 'answer' }, sdp_stream_metadata: { 'bob-s': {} } },
      },
    ]);
    t.match(p.bob.sent(), [{ content: { sdp_stream_metadata: { 'alice-s': { video_muted: true } } } }]);
    p.r.logs.length = 0;
    t.same(
      await say(p, p.alice, {
        type: 'm.call.negotiate',
        content: { description: { type: 'answer', sdp: 'x' } },
      }),
      [],
    );
    t.ok(p.r.logs.some((l) => l['msg'] === 'late answer discarded' && l['result'] === 'no_offer'));
  },
);

t.test('B metadata changed, pong, connect; a dialect change resends the full metadata', async (t) => {
  const p = await pair('B');
  t.same(
    await say(p, p.alice, {
      type: 'm.call.sdp_stream_metadata_changed',
      content: { sdp_stream_metadata: meta('alice-s', { 'alice-a': 'audio' }) },
    }),
    [],
    'no ack in B',
  );
  t.match(p.bob.sent(), [{ type: 'm.call.sdp_stream_metadata_changed' }]);
  t.same(await say(p, p.alice, { type: 'm.call.pong', content: {} }), []);
  t.match(await say(p, p.alice, { type: 'org.matrix.msc3898.connect', content: { foci: [FOCUS] } }), [
    { type: 'org.matrix.msc3898.error', content: { errcode: 'M_FORBIDDEN' } },
  ]);
  t.match(await say(p, p.alice, { op: 'alive', id: 'a1' }), [
    { op: 'metadata', metadata: { 'bob-s': {} } },
    { op: 'ack', id: 'a1' },
  ]);
  t.match(await say(p, p.alice, { type: 'm.call.pong', content: {} }), [
    { type: 'm.call.sdp_stream_metadata_changed', content: { sdp_stream_metadata: { 'bob-s': {} } } },
  ]);
  t.ok(p.r.metrics.calls.includes('dc:B:metadata:ok'));
});
