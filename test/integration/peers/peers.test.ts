/**
 * The three test peer kinds (werift, @roamhq/wrtc, Chromium) connected to each other in-process, without any
 * SFU or homeserver: each pair reaches `connected` over loopback and exchanges data-channel messages both ways.
 */
import t from 'tap';
import {
  closeBrowser,
  createPeer,
  launchBrowser,
  type LocalCandidate,
  type PeerKind,
  type TestPeer,
} from '../../../harness/peers/index.js';
import { isLoopbackUdpCandidate } from '../../../harness/peers/common.js';

const TIMEOUT_MS = 15_000;

// One browser for the file, launched by the first test that needs it; if Chromium cannot start, those tests
// fail with the launch error (the others still run).
t.teardown(() => closeBrowser());

async function peerOf(kind: PeerKind): Promise<TestPeer> {
  if (kind === 'chromium') {
    await launchBrowser();
  }
  return createPeer(kind);
}

/** Forwards `from`'s candidates to `to` (as a signalling server would) and records them. */
function trickle(from: TestPeer, to: TestPeer, seen: LocalCandidate[], errors: unknown[]): void {
  from.onCandidate((c) => {
    seen.push(c);
    to.addIceCandidate(c).catch((err: unknown) => errors.push(err));
  });
}

const pairs: [PeerKind, PeerKind][] = [
  ['werift', 'wrtc'],
  ['wrtc', 'chromium'],
  ['chromium', 'werift'],
];

for (const [offererKind, answererKind] of pairs) {
  t.test(`${offererKind} offerer ↔ ${answererKind} answerer: connected, data both ways`, async (t) => {
    const offerer = await peerOf(offererKind);
    t.teardown(() => offerer.close());
    const answerer = await peerOf(answererKind);
    t.teardown(() => answerer.close());
    t.equal(offerer.kind, offererKind);
    t.equal(answerer.kind, answererKind);

    const errors: unknown[] = [];
    const fromOfferer: LocalCandidate[] = [];
    const fromAnswerer: LocalCandidate[] = [];
    trickle(offerer, answerer, fromOfferer, errors);
    trickle(answerer, offerer, fromAnswerer, errors);

    const offer = await offerer.createOffer({ dataChannel: true, audio: true, video: true });
    t.notMatch(offer, /a=candidate:/, 'the offer carries no candidates (trickle only)');
    t.same(addressesIn(offer), ['0.0.0.0'], 'and no address but the 0.0.0.0 placeholder');
    t.match(offer, /m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
    await answerer.setRemoteDescription({ type: 'offer', sdp: offer });
    const answer = await answerer.createAnswer();
    t.notMatch(answer, /a=candidate:/, 'the answer carries no candidates');
    t.same(addressesIn(answer), ['0.0.0.0'], 'and no address but the 0.0.0.0 placeholder');
    await offerer.setRemoteDescription({ type: 'answer', sdp: answer });

    await Promise.all([offerer.waitConnected(TIMEOUT_MS), answerer.waitConnected(TIMEOUT_MS)]);
    t.equal(offerer.connectionState(), 'connected');
    t.equal(answerer.connectionState(), 'connected');
    await Promise.all([offerer.waitDataChannelOpen(TIMEOUT_MS), answerer.waitDataChannelOpen(TIMEOUT_MS)]);

    const atAnswerer = nextData(answerer);
    offerer.sendData(`hello from ${offererKind}`);
    t.equal(await atAnswerer, `hello from ${offererKind}`);
    const atOfferer = nextData(offerer);
    answerer.sendData(JSON.stringify({ op: 'ack', id: answererKind }));
    t.same(JSON.parse(await atOfferer), { op: 'ack', id: answererKind });

    for (const [who, list] of [
      [offererKind, fromOfferer],
      [answererKind, fromAnswerer],
    ] as const) {
      const real = list.filter((c) => c.candidate !== '');
      t.ok(real.length > 0, `${who} trickled candidates`);
      t.ok(
        real.every((c) => isLoopbackUdpCandidate(c.candidate)),
        `${who} announced only UDP candidates on 127.0.0.1`,
      );
      t.equal(list.at(-1)?.candidate, '', `${who} ended its candidates with ""`);
    }
    t.same(errors, [], 'every trickled candidate was accepted');

    await offerer.close();
    await offerer.close();
    t.equal(offerer.connectionState(), 'closed', 'close() is idempotent');
  });
}

for (const kind of ['werift', 'wrtc', 'chromium'] as const) {
  t.test(`${kind}: simulcast video + audio offer shape`, async (t) => {
    const peer = await peerOf(kind);
    t.teardown(() => peer.close());
    const offer = await peer.createOffer({
      audio: true,
      video: { simulcast: true },
      dataChannel: 'signalling',
    });
    const sections = offer.split(/\r\n(?=m=)/).slice(1);
    t.match(
      sections.map((s) => s.split(' ', 1)[0]),
      ['m=audio', 'm=video', 'm=application'],
    );
    t.match(sections[1], /a=rid:q send/);
    t.match(sections[1], /a=simulcast:send q;h;f/);
    t.match(offer, /a=group:BUNDLE 0 1 2/);
    await peer.close();
  });
}

/** Addresses of the `c=` and `a=rtcp:` lines. */
function addressesIn(sdp: string): string[] {
  const found = [...sdp.matchAll(/^(?:c=IN IP[46] |a=rtcp:\d+ IN IP[46] )(\S+)\r?$/gm)].map((m) => m[1]!);
  return [...new Set(found)];
}

function nextData(peer: TestPeer): Promise<string> {
  return new Promise((resolve) => {
    let done = false;
    peer.onData((text) => {
      if (!done) {
        done = true;
        resolve(text);
      }
    });
  });
}
