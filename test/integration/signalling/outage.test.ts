/**
 * A homeserver outage as the SFU sees it (issue 17): for 20 s every request the SFU makes to its homeserver is
 * answered 502 by the reverse proxy in front of it (harness/outageProxy.ts), while the homeserver itself keeps
 * pushing transactions and clients keep using it. The running call goes on — media flows the whole time, no session
 * ends — /readyz says the homeserver is unreachable soon after the outage starts, an invite that arrives during the
 * outage is answered after it (the answer is retried under the same txnId, not lost), /readyz is ready again
 * afterwards, and the SFU re-reads the room's state (`/state`) once the homeserver is back. Generous timeouts; no timing thresholds.
 */
import t from 'tap';
import { CONF, startCallStack } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, streamOf, subscribe } from '../../../harness/mediaCall.js';
import { startOutageProxy, type OutageProxy } from '../../../harness/outageProxy.js';
import { waitFor } from '../../../harness/stack.js';

const OUTAGE_MS = 20_000;

t.test(
  'a call stays up through 20 s of homeserver 502s; an invite during it is answered after it',
  async (t) => {
    let proxy: OutageProxy | undefined;
    const cs = await startCallStack(t, {
      homeserverUrl: async (hsUrl) => {
        proxy = await startOutageProxy(t, hsUrl);
        return proxy.url;
      },
    });
    const px = proxy!;
    const alice = await cs.client('alice');
    const bob = await cs.client('bob');
    const a = await joinWithMedia(cs, alice, { audio: true, video: true });
    const synthetic = asWerift(alice.peer).startSyntheticVideo({
      fps: 30,
      packetsPerFrame: 2,
      payloadBytes: 800,
      keyframeIntervalMs: 1000,
      width: 640,
      height: 360,
    });
    t.teardown(() => {
      synthetic.stop();
    });
    const b = await joinWithMedia(cs, bob, {});
    const s = await streamOf(b, alice.userId, { video: true });
    let video = 0;
    asWerift(bob.peer).onRtp((r) => {
      if (r.kind === 'video') {
        video++;
      }
    });
    await subscribe(b, [{ stream_id: s.streamId, track_id: s.video! }], 'sub-1');
    await waitFor(() => video > 30, 20_000, 'bob receives alice');
    const sessions = cs.sfu.conferences.sessionCount;

    px.down = true;
    const startedAt = Date.now();
    const samples: number[] = [];
    const sample = async (ms: number) => {
      const before = video;
      await new Promise((r) => setTimeout(r, ms));
      samples.push(video - before);
    };
    await sample(2500);
    await sample(2500);
    // An invite in the middle of the outage: pushed to the SFU by the homeserver; the answer cannot leave yet.
    const carol = await cs.client('carol');
    const invitedAt = Date.now();
    await carol.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
    while (Date.now() - startedAt < OUTAGE_MS - 2500) {
      await sample(2500);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - startedAt))));
    const readyDuring = cs.sfu.readiness.snapshot()['homeserver'];
    const answeredDuring = carol.received.some((ev) => ev.type === 'm.call.answer');
    const sessionsDuring = cs.sfu.conferences.sessionCount;
    const passedBeforeRecovery = px.passed.length;
    px.down = false;

    t.ok(
      samples.length >= 6 && samples.every((n) => n > 10),
      `media kept flowing: video packets per 2.5 s during the outage ${samples.join(', ')}`,
    );
    t.equal(sessionsDuring, sessions + 1, 'no session ended (and carol’s started)');
    t.same(alice.hangups, [], 'alice not hung up');
    t.same(bob.hangups, [], 'bob not hung up');
    t.match(
      readyDuring,
      { ok: false, detail: /502/ },
      '/readyz said why (checked at once when the answer’s send was refused)',
    );
    t.ok(px.refused > 0, `the SFU's requests were refused (${px.refused})`);
    t.notOk(answeredDuring, 'no answer could be sent during the outage');

    await carol.waitForAnswer(30_000);
    t.pass(`carol's invite answered ${Math.round((Date.now() - invitedAt) / 1000)} s after it was sent`);
    await carol.peer.waitConnected(20_000);
    await waitFor(() => cs.sfu.readiness.snapshot()['homeserver']?.ok === true, 20_000, 'ready again');
    // Back from the outage, the SFU re-reads the room's state (what it might have missed).
    await waitFor(
      () => px.passed.slice(passedBeforeRecovery).some((r) => /^GET \S*\/rooms\/[^/]+\/state(\?|$)/.test(r)),
      20_000,
      'the room state re-read after the outage',
    );
    const after = video;
    await waitFor(() => video > after + 30, 10_000, 'media still flowing');
    t.same(a.c.violations, [], 'alice: every to-device event the SFU sent kept §4.4');
    t.same(cs.hs.rejections, [], 'the SFU sent nothing the homeserver rejects');
  },
);
