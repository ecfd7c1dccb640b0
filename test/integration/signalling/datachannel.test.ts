/**
 * The signalling data channel with real peers: metadata snapshots on open and after changes (dialect B by
 * default, A once the client speaks it), errors for bad frames, keep-alive timeout, and a fuzz smoke.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { dc } from '../../../client/index.js';
import type { OfferOptions } from '../../../harness/peers/index.js';
import { CONF, startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import { waitFor } from '../../../harness/stack.js';

/** Frames are read by the client's own reader (client/dc), not the SFU's parser. */
type DcMessage = dc.FocusMessage;

interface Inbox {
  frames: { raw: string; msg: DcMessage | undefined; dialect: string | undefined }[];
}

function listen(c: TestCallClient): Inbox {
  const inbox: Inbox = { frames: [] };
  c.peer.onData((raw) => {
    const r = dc.readFocusFrame(raw);
    inbox.frames.push({ raw, msg: r.ok ? r.message : undefined, dialect: r.ok ? r.dialect : undefined });
  });
  return inbox;
}

async function join(
  cs: CallStack,
  c: TestCallClient,
  offerOpts: OfferOptions = { dataChannel: true, audio: true },
  metadata?: Record<string, unknown>,
) {
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts, ...(metadata ? { metadata } : {}) });
  await c.waitForAnswer(15_000);
  await c.peer.waitConnected(15_000);
  await c.peer.waitDataChannelOpen(15_000);
}

/** A reply to a request: ack, error, or the answer to a client offer. */
const isReply = (m: DcMessage | undefined): boolean =>
  m?.kind === 'error' || m?.kind === 'ack' || m?.kind === 'answer';

const lastMetadata = (inbox: Inbox) =>
  inbox.frames
    .map((f) => f.msg)
    .filter((m): m is Extract<DcMessage, { kind: 'metadata' }> => m?.kind === 'metadata')
    .at(-1)?.metadata;

t.test('metadata: B is told about A’s streams (width/height kept), on open and after changes', async (t) => {
  const cs = await startCallStack(t);
  const alice = await cs.client('alice');
  const bob = await cs.client('bob');
  const bobInbox = listen(bob);
  await join(cs, bob);
  await waitFor(() => lastMetadata(bobInbox) !== undefined, 10_000, 'snapshot on open');
  t.same(lastMetadata(bobInbox), {}, 'nobody else publishes yet');
  t.equal(bobInbox.frames[0]?.dialect, 'B', 'dialect B before the client speaks');

  // Alice publishes audio + video; her invite metadata names the stream from her offer's msid.
  await join(cs, alice, { dataChannel: true, audio: true, video: true });
  await waitFor(() => Object.keys(lastMetadata(bobInbox) ?? {}).length > 0, 10_000, 'alice announced');
  const snap = lastMetadata(bobInbox)!;
  const [streamId, stream] = Object.entries(snap)[0]!;
  t.equal(stream.user_id, alice.userId, 'authenticated publisher');
  t.equal(stream.device_id, alice.deviceId);
  t.same(
    Object.values(stream.tracks ?? {})
      .map((x) => x.kind)
      .sort(),
    ['audio', 'video'],
  );

  // Alice (dialect A) mutes audio and declares her video resolution; Bob's snapshot keeps both.
  const trackOf = (kind: string) => Object.entries(stream.tracks ?? {}).find(([, x]) => x.kind === kind)![0];
  const audioId = trackOf('audio');
  const videoId = trackOf('video');
  const aliceInbox = listen(alice);
  alice.peer.sendData(
    JSON.stringify({
      op: 'metadata',
      id: 'm1',
      metadata: {
        [streamId]: {
          purpose: 'm.usermedia',
          audio_muted: true,
          tracks: { [audioId]: { kind: 'audio' }, [videoId]: { kind: 'video', width: 1280, height: 720 } },
        },
      },
    }),
  );
  await waitFor(() => aliceInbox.frames.some((f) => f.msg?.kind === 'ack'), 10_000, 'ack');
  await waitFor(() => lastMetadata(bobInbox)?.[streamId]?.audio_muted === true, 10_000, 'mute relayed');
  t.same(lastMetadata(bobInbox)?.[streamId]?.tracks?.[videoId], { kind: 'video', width: 1280, height: 720 });
  t.same(aliceInbox.frames.find((f) => f.msg?.kind === 'ack')?.msg, { kind: 'ack', id: 'm1' });
  await waitFor(
    () => aliceInbox.frames.some((f) => f.msg?.kind === 'metadata' && f.dialect === 'A'),
    10_000,
    'metadata resent in dialect A',
  );
  const firstA = aliceInbox.frames.findIndex((f) => f.dialect === 'A');
  t.ok(
    aliceInbox.frames.slice(firstA).every((f) => f.dialect === 'A'),
    'after speaking dialect A, alice only gets dialect A',
  );

  // Alice leaves: Bob is told.
  await alice.hangup();
  await waitFor(
    () => Object.keys(lastMetadata(bobInbox) ?? { x: 1 }).length === 0,
    10_000,
    'departure relayed',
  );
  t.pass('departure relayed');
});

t.test('bad frames get an error reply with the request id; the session stays up', async (t) => {
  const cs = await startCallStack(t);
  const c = await cs.client('alice');
  const inbox = listen(c);
  await join(cs, c);
  const send = (s: string) => {
    c.peer.sendData(s);
  };
  send('not json');
  send(JSON.stringify({ op: 'bogus', id: 'x1' }));
  send(JSON.stringify({ op: 'subscribe', id: 'x2', start: [{ stream_id: 's', track_id: 't', width: -5 }] }));
  send(
    JSON.stringify({
      op: 'connect',
      id: 'x3',
      foci: [{ user_id: '@sfu:elsewhere.example', device_id: 'X' }],
    }),
  );
  send(JSON.stringify({ op: 'alive', id: 'x4' }));
  await waitFor(() => inbox.frames.filter((f) => isReply(f.msg)).length >= 5, 10_000, 'replies');
  const replies = inbox.frames.map((f) => f.msg).filter((m) => isReply(m));
  t.match(replies, [
    { kind: 'error', errcode: 'M_NOT_JSON' },
    { kind: 'error', id: 'x1', errcode: 'M_BAD_JSON' },
    { kind: 'error', id: 'x2', errcode: 'M_INVALID_PARAM' },
    { kind: 'error', id: 'x3', errcode: 'M_FORBIDDEN' },
    { kind: 'ack', id: 'x4' },
  ]);
  t.equal(cs.sfu.conferences.sessionCount, 1);
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_dc_messages_total');
  t.match(m, /result="error"/);
});

t.test('keep-alive: a client that stays silent is hung up with keep_alive_timeout', async (t) => {
  const cs = await startCallStack(t, { config: { keepalive: { interval_s: 0.2, timeout_s: 1 } } });
  const silent = await cs.client('silent');
  const talker = await cs.client('talker');
  const talkerInbox = listen(talker);
  await join(cs, silent);
  await join(cs, talker);
  // The talker speaks dialect A and keeps sending alive; the silent one never answers pings.
  const timer = setInterval(() => {
    try {
      talker.peer.sendData(JSON.stringify({ op: 'alive' }));
    } catch {
      // closed
    }
  }, 200);
  t.teardown(() => {
    clearInterval(timer);
  });
  await new Promise((r) => setTimeout(r, 300));
  const spokeAt = talkerInbox.frames.length;
  const hangup = await silent.waitForHangup(10_000);
  t.equal(hangup['reason'], 'keep_alive_timeout');
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(talker.hangups.length, 0, 'the client sending alive is kept');
  t.equal(cs.sfu.conferences.sessionCount, 1);
  t.ok(
    talkerInbox.frames.slice(spokeAt).every((f) => f.msg?.kind !== 'ping'),
    'no pings to a dialect-A client after it spoke',
  );
});

t.test('fuzz smoke: 2,000 random and mutated frames, each answered, no crash', async (t) => {
  // The parsers are fuzzed, not the budgets: their rates are raised out of the way (a renegotiation flood would
  // otherwise hang the fuzzer up; subscribe.test.ts tests both floods).
  const cs = await startCallStack(t, {
    config: { limits: { dc_messages_per_second: 100_000, renegotiations_per_second: 100_000 } },
  });
  const c = await cs.client('fuzzer');
  const inbox = listen(c);
  await join(cs, c);
  const seeds = [
    { op: 'subscribe', start: [{ stream_id: 'a', track_id: 'b', width: 640, height: 360 }] },
    { op: 'unsubscribe', stop: [{ stream_id: 'a', track_id: 'b' }] },
    {
      op: 'metadata',
      metadata: { s: { purpose: 'm.usermedia', tracks: { t: { kind: 'video', width: 1 } } } },
    },
    { op: 'connect', foci: [{ user_id: '@a:b', device_id: 'C' }] },
    { op: 'publish', sdp: 'v=0', metadata: {} },
    { op: 'answer', sdp: 'v=0' },
    { op: 'alive' },
  ];
  const mutate = (i: number): string => {
    const seed = structuredClone(seeds[i % seeds.length]!) as Record<string, unknown>;
    seed['id'] = `f${i}`;
    switch (i % 6) {
      case 0:
        return JSON.stringify(seed);
      case 1:
        return JSON.stringify(seed).slice(0, 5 + (i % 20));
      case 2:
        seed[Object.keys(seed)[0]!] = [42, null, 'x', {}][i % 4];
        return JSON.stringify(seed);
      case 3:
        return JSON.stringify({ ...seed, op: randomBytes(3).toString('hex') });
      case 4:
        return JSON.stringify([seed]);
      default:
        return randomBytes(8 + (i % 40)).toString('base64');
    }
  };
  const N = 2000;
  const batch = 100;
  for (let i = 0; i < N; i += batch) {
    for (let j = i; j < i + batch; j++) {
      c.peer.sendData(mutate(j));
    }
    const want = i + batch;
    await waitFor(
      () => inbox.frames.filter((f) => isReply(f.msg)).length >= want,
      30_000,
      `replies to ${want} frames`,
    );
  }
  const replies = inbox.frames.filter((f) => isReply(f.msg)).length;
  t.equal(replies, N, 'one reply per frame');
  t.equal(cs.sfu.conferences.sessionCount, 1, 'session alive');
  t.equal(c.peer.connectionState(), 'connected');
});
