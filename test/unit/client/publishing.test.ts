/**
 * Publishing (client/publishing.ts) over a real DcSession and a scripted peer: mute disables the local tracks and
 * announces the flag with the `metadata` op (the camera stream only); a screen share adds a send-only track,
 * sends `publish` with an `m.screenshare` stream, applies the focus's `answer` with its id and joins the
 * metadata; a focus `error` with that id, or no answer in time, is a PublishError and removes the track again;
 * a second share is refused; stopping sends `unpublish` with the stopped track and drops it from the metadata.
 */
import t from 'tap';
import { DcSession } from '../../../client/dc/session.js';
import { PublishError } from '../../../client/errors.js';
import { Publishing, type PublishingPeer } from '../../../client/publishing.js';
import type { MediaStreamLike, MediaStreamTrackLike } from '../../../client/webrtcTypes.js';
import { FakePeer } from './fakePeer.js';

const track = (id: string, kind: string): MediaStreamTrackLike & { stopped: boolean } => {
  const tr = {
    id,
    kind,
    enabled: true,
    stopped: false,
    stop() {
      tr.stopped = true;
    },
  };
  return tr;
};
const stream = (id: string, tracks: MediaStreamTrackLike[]): MediaStreamLike => ({
  id,
  getTracks: () => tracks,
});

class PubPeer extends FakePeer implements PublishingPeer {
  readonly added: unknown[] = [];
  readonly removed: unknown[] = [];
  offersMade = 0;
  constructor(readonly localStream: MediaStreamLike) {
    super();
  }
  addSendTrack(tr: MediaStreamTrackLike): unknown {
    const h = { track: tr.id };
    this.added.push(h);
    return h;
  }
  removeSendTrack(handle: unknown): void {
    this.removed.push(handle);
  }
  async renegotiate(): Promise<string> {
    this.offersMade++;
    return `v=0\r\noffer-${String(this.offersMade)}\r\n`;
  }
}

const setup = (timeoutMs = 1000) => {
  const mic = track('a1', 'audio');
  const cam = track('v1', 'video');
  const peer = new PubPeer(stream('s1', [mic, cam]));
  const dc = new DcSession(peer);
  const pub = new Publishing({
    dc,
    peer,
    userId: '@a:x',
    deviceId: 'D',
    timeoutMs,
    initial: {
      s1: {
        user_id: '@a:x',
        device_id: 'D',
        purpose: 'm.usermedia',
        audio_muted: false,
        video_muted: false,
        tracks: { a1: { kind: 'audio' }, v1: { kind: 'video' } },
      },
    },
  });
  const sent = () => peer.sentData.map((f) => JSON.parse(f) as Record<string, unknown>);
  return { mic, cam, peer, dc, pub, sent };
};

t.test('mute: tracks disabled, flag announced', async (t) => {
  const { mic, cam, pub, sent } = setup();
  pub.setMuted('audio', true);
  t.equal(mic.enabled, false, 'microphone disabled');
  t.equal(cam.enabled, true, 'camera untouched');
  t.same(pub.muted, { audio: true, video: false });
  const f = sent().at(-1)!;
  t.equal(f['op'], 'metadata');
  t.match(f['metadata'], { s1: { audio_muted: true, video_muted: false, purpose: 'm.usermedia' } });
  pub.setMuted('video', true);
  pub.setMuted('audio', false);
  t.equal(mic.enabled, true);
  t.equal(cam.enabled, false);
  t.match(sent().at(-1)!['metadata'], { s1: { audio_muted: false, video_muted: true } });
});

t.test('screen share: publish, answer, metadata; stop: unpublish', async (t) => {
  const { peer, pub, sent } = setup();
  const screen = track('sv', 'video');
  const sharing = pub.shareScreen(stream('scr', [screen]), { width: 1920, height: 1080 });
  await new Promise((r) => setTimeout(r, 10));
  const f = sent().at(-1)!;
  t.equal(f['op'], 'publish');
  t.equal(f['sdp'], 'v=0\r\noffer-1\r\n');
  t.match(f['metadata'], {
    scr: { purpose: 'm.screenshare', tracks: { sv: { kind: 'video', width: 1920 } } },
  });
  peer.receive({ op: 'answer', id: 'other', sdp: 'not ours' });
  peer.receive({ op: 'answer', id: f['id'], sdp: 'v=0\r\nanswer\r\n' });
  t.equal(await sharing, 'scr');
  t.same(
    peer.remote.at(-1),
    { type: 'answer', sdp: 'v=0\r\nanswer\r\n' },
    'only the answer with our id applied',
  );
  t.equal(pub.screenShare, 'scr');
  t.ok('scr' in pub.metadata && 's1' in pub.metadata);
  await t.rejects(
    pub.shareScreen(stream('scr2', [track('x', 'video')])),
    PublishError,
    'one share at a time',
  );
  const stopping = pub.stopScreenShare();
  await new Promise((r) => setTimeout(r, 10));
  const u = sent().at(-1)!;
  t.equal(u['op'], 'unpublish');
  t.same(u['stop'], [{ stream_id: 'scr', track_id: 'sv' }]);
  t.equal(u['sdp'], 'v=0\r\noffer-2\r\n');
  peer.receive({ op: 'answer', id: u['id'], sdp: 'v=0\r\nanswer2\r\n' });
  await stopping;
  t.equal(screen.stopped, true, 'the screen track stopped');
  t.same(peer.removed, peer.added, 'the transceiver removed');
  t.notOk('scr' in pub.metadata);
  t.equal(pub.screenShare, undefined);
});

t.test('screen share refused or unanswered: PublishError, track removed', async (t) => {
  const { peer, pub, sent } = setup(200);
  const refused = pub.shareScreen(stream('scr', [track('sv', 'video')]));
  await new Promise((r) => setTimeout(r, 10));
  peer.receive({ op: 'error', id: sent().at(-1)!['id'], errcode: 'M_FORBIDDEN', error: 'no' });
  const err = await refused.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, PublishError);
  t.equal((err as PublishError).errcode, 'M_FORBIDDEN');
  t.equal(peer.removed.length, 1, 'removed');
  t.equal(pub.screenShare, undefined);
  await t.rejects(
    pub.shareScreen(stream('scr', [track('sv', 'video')])),
    /no answer from the focus within 200 ms/,
  );
  t.equal(peer.removed.length, 2);
  await t.rejects(pub.shareScreen(stream('n', [track('a', 'audio')])), /no video track/);
});
