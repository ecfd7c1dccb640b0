/**
 * Subscriptions and renegotiation over the data channel with real peers (protocol.md §5.2, §5.4): subscribe
 * → ack → SFU offer whose m-lines carry the publisher's msid ids → answer; unsubscribe; both dialects;
 * glare (the SFU rolls back and re-offers); unknown tracks and own tracks refused.
 */
import t from 'tap';
import { dc, metadataFromSdp, type StreamMetadata } from '../../../client/index.js';
import { CONF, startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import type { TapTest } from '../../../harness/sfu.js';
import { waitFor } from '../../../harness/stack.js';

/** Frames are read by the client's own reader (client/dc), not the SFU's parser. */
type DcMessage = dc.FocusMessage;

interface Inbox {
  msgs: DcMessage[];
}

function listen(c: TestCallClient): Inbox {
  const inbox: Inbox = { msgs: [] };
  c.peer.onData((raw) => {
    const r = dc.readFocusFrame(raw);
    if (r.ok) {
      inbox.msgs.push(r.message);
    }
  });
  return inbox;
}

async function next<K extends DcMessage['kind']>(
  inbox: Inbox,
  kind: K,
  from: number,
  pred: (m: Extract<DcMessage, { kind: K }>) => boolean = () => true,
): Promise<Extract<DcMessage, { kind: K }>> {
  let found: Extract<DcMessage, { kind: K }> | undefined;
  await waitFor(
    () => {
      found = inbox.msgs
        .slice(from)
        .find((m): m is Extract<DcMessage, { kind: K }> => m.kind === kind && pred(m as never));
      return found !== undefined;
    },
    15_000,
    `a ${kind} message`,
  );
  return found!;
}

async function join(cs: CallStack, c: TestCallClient, media: { audio?: boolean; video?: boolean } = {}) {
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true, ...media } });
  await c.waitForAnswer(15_000);
  await c.peer.waitConnected(15_000);
  await c.peer.waitDataChannelOpen(15_000);
}

/** Alice publishes audio + video; Bob joins and learns her stream. */
async function setup(t: TapTest) {
  const cs = await startCallStack(t);
  const alice = await cs.client('alice');
  const bob = await cs.client('bob');
  const inbox = listen(bob);
  await join(cs, alice, { audio: true, video: true });
  await join(cs, bob);
  let meta: StreamMetadata = {};
  await waitFor(
    () => {
      const m = inbox.msgs.filter((x) => x.kind === 'metadata').at(-1);
      meta = m?.kind === 'metadata' ? m.metadata : {};
      return Object.keys(meta).length > 0;
    },
    15_000,
    'alice in bob’s metadata',
  );
  const [streamId, stream] = Object.entries(meta)[0]!;
  const track = (kind: string) => Object.entries(stream.tracks ?? {}).find(([, x]) => x.kind === kind)![0];
  return { cs, alice, bob, inbox, streamId, audioId: track('audio'), videoId: track('video') };
}

function msids(sdp: string): { msid: string; direction: string }[] {
  const out: { msid: string; direction: string }[] = [];
  for (const section of sdp.split(/\r\nm=/).slice(1)) {
    if (!/^(audio|video)/.test(section)) {
      continue;
    }
    const msid = /a=msid:([^\r\n]+)/.exec(section)?.[1] ?? '';
    const direction = /a=(sendonly|recvonly|sendrecv|inactive)/.exec(section)?.[1] ?? '';
    out.push({ msid, direction });
  }
  return out;
}

t.test(
  'dialect A: subscribe → ack → SFU offer with the publisher’s msid → answer; unsubscribe renegotiates',
  async (t) => {
    const { cs, bob, inbox, streamId, audioId, videoId } = await setup(t);
    const mark = inbox.msgs.length;
    bob.peer.sendData(
      JSON.stringify({
        op: 'subscribe',
        id: 's1',
        start: [
          { stream_id: streamId, track_id: audioId },
          { stream_id: streamId, track_id: videoId, width: 640, height: 360 },
        ],
      }),
    );
    t.same(await next(inbox, 'ack', mark), { kind: 'ack', id: 's1' });
    const offer = await next(inbox, 'offer', mark);
    t.equal(offer.id, 'sfu-1');
    t.ok(offer.metadata?.[streamId], 'the SFU offer carries the metadata snapshot');
    const lines = msids(offer.sdp);
    t.ok(
      lines.some((l) => l.msid === `${streamId} ${audioId}` && l.direction === 'sendonly'),
      'audio m-line with alice’s ids',
    );
    t.ok(
      lines.some((l) => l.msid === `${streamId} ${videoId}` && l.direction === 'sendonly'),
      'video m-line with alice’s ids',
    );
    await bob.peer.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
    bob.peer.sendData(JSON.stringify({ op: 'answer', id: offer.id, sdp: await bob.peer.createAnswer() }));
    const answered = async () =>
      /initiator="sfu",result="answered"} 1/.test(
        await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_renegotiations_total'),
      );
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await answered();
      await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(ok, 'the SFU applied the answer');
    t.equal(bob.peer.connectionState(), 'connected');

    // A resize does not renegotiate.
    const mark2 = inbox.msgs.length;
    bob.peer.sendData(
      JSON.stringify({
        op: 'subscribe',
        id: 's2',
        start: [{ stream_id: streamId, track_id: videoId, width: 1280, height: 720 }],
      }),
    );
    t.same(await next(inbox, 'ack', mark2), { kind: 'ack', id: 's2' });
    bob.peer.sendData(
      JSON.stringify({ op: 'unsubscribe', id: 'u1', stop: [{ stream_id: streamId, track_id: videoId }] }),
    );
    t.same(await next(inbox, 'ack', mark2, (m) => m.id === 'u1'), { kind: 'ack', id: 'u1' });
    const offer2 = await next(inbox, 'offer', mark2);
    t.equal(offer2.id, 'sfu-2', 'only the unsubscribe renegotiated');
    t.ok(
      msids(offer2.sdp).some((l) => l.direction === 'inactive'),
      'the video m-line is inactive after unsubscribe',
    );
  },
);

t.test('dialect B: track_subscription → m.call.negotiate offer → negotiate answer', async (t) => {
  const { bob, inbox, streamId, audioId } = await setup(t);
  const mark = inbox.msgs.length;
  bob.peer.sendData(
    JSON.stringify({
      type: 'm.call.track_subscription',
      content: { subscribe: [{ stream_id: streamId, track_id: audioId }] },
    }),
  );
  const offer = await next(inbox, 'offer', mark);
  t.ok(msids(offer.sdp).some((l) => l.msid === `${streamId} ${audioId}`));
  await bob.peer.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
  const answer = await bob.peer.createAnswer();
  bob.peer.sendData(
    JSON.stringify({
      type: 'm.call.negotiate',
      content: { description: { type: 'answer', sdp: answer }, sdp_stream_metadata: {} },
    }),
  );
  // No ack in B; a second subscription change renegotiates again only after the answer was applied.
  bob.peer.sendData(
    JSON.stringify({
      type: 'm.call.track_subscription',
      content: { unsubscribe: [{ stream_id: streamId, track_id: audioId }] },
    }),
  );
  const offer2 = await next(inbox, 'offer', mark, (m) => m.sdp !== offer.sdp);
  t.ok(msids(offer2.sdp).some((l) => l.direction === 'inactive'));
});

t.test('refusals: unknown track M_NOT_FOUND with failed list, own track M_INVALID_PARAM', async (t) => {
  const { alice, bob, inbox, streamId, audioId } = await setup(t);
  const mark = inbox.msgs.length;
  bob.peer.sendData(
    JSON.stringify({
      op: 'subscribe',
      id: 'n1',
      start: [
        { stream_id: streamId, track_id: audioId },
        { stream_id: 'nope', track_id: 'nothing' },
      ],
    }),
  );
  t.same(await next(inbox, 'error', mark), {
    kind: 'error',
    id: 'n1',
    errcode: 'M_NOT_FOUND',
    error: 'unknown track nothing',
    failed: [{ stream_id: 'nope', track_id: 'nothing' }],
  });
  await next(inbox, 'offer', mark); // the available track was still applied
  const aliceInbox = listen(alice);
  alice.peer.sendData(
    JSON.stringify({ op: 'subscribe', id: 'own', start: [{ stream_id: streamId, track_id: audioId }] }),
  );
  const err = await next(aliceInbox, 'error', 0, (m) => m.id === 'own');
  t.equal(err.errcode, 'M_INVALID_PARAM');
  t.pass('answered');
});

t.test('glare: a client offer while the SFU offer is pending converges (the SFU is polite)', async (t) => {
  const { cs, bob, inbox, streamId, audioId } = await setup(t);
  const mark = inbox.msgs.length;
  bob.peer.sendData(
    JSON.stringify({ op: 'subscribe', id: 'g1', start: [{ stream_id: streamId, track_id: audioId }] }),
  );
  const sfuOffer = await next(inbox, 'offer', mark);
  // Bob, the impolite peer, ignores the SFU's offer and sends his own.
  const clientOffer = await bob.peer.createOffer({ audio: true });
  bob.peer.sendData(JSON.stringify({ op: 'offer', id: 'c1', sdp: clientOffer }));
  const answer = await next(inbox, 'answer', mark, (m) => m.id === 'c1');
  await bob.peer.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  // The SFU re-offers what is still pending.
  const reoffer = await next(inbox, 'offer', mark, (m) => m.id !== sfuOffer.id);
  t.ok(
    msids(reoffer.sdp).some((l) => l.msid === `${streamId} ${audioId}`),
    'the subscription survives the rollback',
  );
  await bob.peer.setRemoteDescription({ type: 'offer', sdp: reoffer.sdp });
  bob.peer.sendData(JSON.stringify({ op: 'answer', id: reoffer.id, sdp: await bob.peer.createAnswer() }));
  // A late answer to the rolled-back offer is refused by its stale id.
  bob.peer.sendData(JSON.stringify({ op: 'answer', id: sfuOffer.id, sdp: answer.sdp }));
  const stale = await next(inbox, 'error', mark, (m) => m.id === sfuOffer.id);
  t.equal(stale.errcode, 'M_INVALID_PARAM');
  const m = await cs.sfu.metrics.registry.getSingleMetricAsString('sfu_renegotiations_total');
  t.match(m, /result="rolled_back"} 1/);
  t.equal(bob.peer.connectionState(), 'connected', 'still connected');
});

t.test('publish: a screenshare added later is announced to B, who can subscribe to it', async (t) => {
  const { alice, bob, inbox, streamId } = await setup(t);
  const aliceInbox = listen(alice);
  const offer = await alice.peer.createOffer({ video: true });
  const screen = Object.entries(metadataFromSdp(offer, alice.userId, alice.deviceId)).find(
    ([id]) => id !== streamId,
  );
  t.ok(screen, 'the new offer carries a second stream');
  const [screenId, screenStream] = screen!;
  const screenTrack = Object.keys((screenStream as { tracks: Record<string, unknown> }).tracks)[0]!;
  const mark = inbox.msgs.length;
  alice.peer.sendData(
    JSON.stringify({
      op: 'publish',
      id: 'p1',
      sdp: offer,
      metadata: {
        [screenId]: {
          purpose: 'm.screenshare',
          audio_muted: false,
          video_muted: false,
          tracks: { [screenTrack]: { kind: 'video', width: 1920, height: 1080 } },
        },
      },
    }),
  );
  const answer = await next(aliceInbox, 'answer', 0, (m) => m.id === 'p1');
  await alice.peer.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  const meta = await next(inbox, 'metadata', mark, (m) => m.metadata[screenId] !== undefined);
  t.match(meta.metadata[screenId], {
    user_id: alice.userId,
    purpose: 'm.screenshare',
    tracks: { [screenTrack]: { kind: 'video', width: 1920, height: 1080 } },
  });
  t.ok(meta.metadata[streamId], 'the usermedia stream is still there');
  bob.peer.sendData(
    JSON.stringify({ op: 'subscribe', id: 'sc', start: [{ stream_id: screenId, track_id: screenTrack }] }),
  );
  t.same(await next(inbox, 'ack', mark, (m) => m.id === 'sc'), { kind: 'ack', id: 'sc' });
  const sfuOffer = await next(inbox, 'offer', mark);
  t.ok(
    msids(sfuOffer.sdp).some((l) => l.msid === `${screenId} ${screenTrack}`),
    'the screenshare m-line has alice’s ids',
  );
});

t.test(
  'connect: this focus itself, which a member names → ack (nothing to link); rate limit → M_LIMIT_EXCEEDED',
  async (t) => {
    const cs = await startCallStack(t, { config: { limits: { dc_messages_per_second: 5 } } });
    const c = await cs.client('alice');
    const inbox = listen(c);
    await join(cs, c);
    c.peer.sendData(JSON.stringify({ op: 'connect', id: 'k1', foci: [cs.focusRef] }));
    t.same(await next(inbox, 'ack', 0, (m) => m.id === 'k1'), { kind: 'ack', id: 'k1' });
    for (let i = 0; i < 30; i++) {
      c.peer.sendData(JSON.stringify({ op: 'alive', id: `r${i}` }));
    }
    const limited = await next(inbox, 'error', 0, (m) => m.errcode === 'M_LIMIT_EXCEEDED');
    t.match(limited.error, /too many/);
    t.equal(cs.sfu.conferences.sessionCount, 1, 'a limited client is not hung up');
  },
);

t.test(
  'a data-channel flood: one M_LIMIT_EXCEEDED a second, then past the bound a hangup; the others stay',
  async (t) => {
    const cs = await startCallStack(t, { config: { limits: { dc_messages_per_second: 5 } } });
    const flooder = await cs.client('mallory');
    const other = await cs.client('alice');
    const inbox = listen(flooder);
    await join(cs, flooder);
    await join(cs, other);
    await waitFor(() => cs.sfu.conferences.sessionCount === 2, 10_000, 'two sessions');
    // Rate 5/s, burst 10: 200 at once leave ≈ 190 dropped, past the bound of 10 × 5 = 50.
    for (let i = 0; i < 200; i++) {
      flooder.peer.sendData(JSON.stringify({ op: 'alive', id: `f${i}` }));
    }
    const hangup = await flooder.waitForHangup(15_000);
    t.equal(hangup['reason'], 'unknown_error');
    t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_LIMIT_EXCEEDED' }, 'the error says why');
    const limited = inbox.msgs.filter((m) => m.kind === 'error' && m.errcode === 'M_LIMIT_EXCEEDED');
    t.ok(limited.length >= 1 && limited.length <= 2, `not echoed per frame: ${limited.length} error(s)`);
    await waitFor(() => cs.sfu.conferences.sessionCount === 1, 10_000, 'only the flooder is gone');
    t.equal(other.peer.connectionState(), 'connected', 'the other participant is still connected');
  },
);

t.test(
  'a renegotiation flood: the burst worked on, then M_LIMIT_EXCEEDED, past the bound a hangup; the others stay',
  async (t) => {
    const cs = await startCallStack(t);
    const flooder = await cs.client('mallory');
    const other = await cs.client('alice');
    const inbox = listen(flooder);
    await join(cs, flooder);
    await join(cs, other);
    await waitFor(() => cs.sfu.conferences.sessionCount === 2, 10_000, 'two sessions');
    // Default 1 offer a second, bursts of 5: 40 at once leave 35 refused, past the bound of 4 × 5 = 20.
    for (let i = 0; i < 40; i++) {
      flooder.peer.sendData(JSON.stringify({ op: 'offer', id: `o${i}`, sdp: 'v=0\r\nBAD\r\n' }));
    }
    const hangup = await flooder.waitForHangup(15_000);
    t.equal(hangup['reason'], 'unknown_error');
    t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_LIMIT_EXCEEDED', error: /renegotiations/ });
    const limited = inbox.msgs.filter((m) => m.kind === 'error' && m.errcode === 'M_LIMIT_EXCEEDED');
    t.equal(limited.length, 20, 'each refused offer answered until the bound, then none');
    await waitFor(() => cs.sfu.conferences.sessionCount === 1, 10_000, 'only the flooder is gone');
    t.equal(other.peer.connectionState(), 'connected', 'the other participant is still connected');
  },
);

t.test('no answer to an SFU offer within negotiation.answer_timeout_s → hangup unknown_error', async (t) => {
  const cs = await startCallStack(t, { config: { negotiation: { answer_timeout_s: 0.5 } } });
  const alice = await cs.client('alice');
  const bob = await cs.client('bob');
  const inbox = listen(bob);
  await join(cs, alice, { audio: true });
  await join(cs, bob);
  const meta = await next(inbox, 'metadata', 0, (m) => Object.keys(m.metadata).length > 0);
  const [streamId, stream] = Object.entries(meta.metadata)[0]!;
  bob.peer.sendData(
    JSON.stringify({
      op: 'subscribe',
      id: 't1',
      start: [{ stream_id: streamId, track_id: Object.keys(stream.tracks ?? {})[0] }],
    }),
  );
  await next(inbox, 'offer', 0);
  const hangup = await bob.waitForHangup(15_000);
  t.equal(hangup['reason'], 'unknown_error');
});

t.test('publishing a track id another participant already publishes → M_INVALID_PARAM', async (t) => {
  const { alice, bob, inbox } = await setup(t);
  const aliceOffer = alice.call!.offerSdp;
  // Bob offers Alice's exact m-lines (same msid): the first publisher keeps them.
  const stolen = aliceOffer;
  const mark = inbox.msgs.length;
  bob.peer.sendData(JSON.stringify({ op: 'publish', id: 'steal', sdp: stolen, metadata: {} }));
  const err = await next(inbox, 'error', mark, (m) => m.id === 'steal');
  t.equal(err.errcode, 'M_INVALID_PARAM');
  t.match(err.error, /already published/);
});
