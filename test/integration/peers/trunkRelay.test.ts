/**
 * harness/trunkRelay.ts with two plain werift peers whose call (invite, answer, trickled candidates) goes by
 * to-device through the federated test homeserver, users of a.example and b.example: ICE, DTLS and RTP all pass
 * through the relay (each peer only ever sees the relay's port); per-SSRC counts match what was sent and
 * received; a blackhole stops the media both ways and media resumes once it is lifted; random loss is counted per
 * SSRC; a second call (a new call_id, as on a relink) gets a relay of its own. Users other than the two pass
 * untouched.
 */
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
  useVP8,
  type RTCRtpTransceiver,
} from 'werift';
import '../../../src/media/noDefaultStun.js';
import t from 'tap';
import { startTestHomeserver, type TestHomeserver } from '../../../harness/homeserver/index.js';
import { weriftIce } from '../../../harness/peers/common.js';
import { waitFor } from '../../../harness/stack.js';
import { relayCallsBetween, type TrunkRelay } from '../../../harness/trunkRelay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface User {
  userId: string;
  accessToken: string;
  deviceId: string;
  url: string;
}

let txn = 0;
async function send(from: User, to: User, type: string, content: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${from.url}/_matrix/client/v3/sendToDevice/${type}/t${++txn}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${from.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: { [to.userId]: { [to.deviceId]: content } } }),
  });
  if (res.status !== 200) {
    throw new Error(`sendToDevice ${type}: ${res.status} ${await res.text()}`);
  }
  await res.arrayBuffer();
}

/** Every candidate port a user was told about in one call (SDP and trickled), as delivered. */
function portsSeenBy(hs: TestHomeserver, u: User, callId: string): number[] {
  const ports: number[] = [];
  for (const m of hs.toDeviceInbox(u.userId, u.deviceId)) {
    if (m.content['call_id'] !== callId) {
      continue;
    }
    const texts: string[] = [];
    for (const f of ['offer', 'answer']) {
      const sdp = (m.content[f] as { sdp?: string } | undefined)?.sdp;
      if (sdp !== undefined) {
        texts.push(...sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:')));
      }
    }
    for (const c of (m.content['candidates'] as { candidate: string }[] | undefined) ?? []) {
      if (c.candidate !== '') {
        texts.push(c.candidate);
      }
    }
    for (const c of texts) {
      ports.push(Number(c.replace(/^a=/, '').split(/\s+/)[5]));
    }
  }
  return ports;
}

interface Call {
  a: RTCPeerConnection;
  b: RTCPeerConnection;
  sender: RTCRtpTransceiver;
  /** Sequence numbers B received. */
  received: number[];
  /** Starts sending `pps` RTP packets per second from A; returns a stop function and the sent count. */
  stream(pps: number): { sent: () => number; first: number; stop: () => void };
  close(): Promise<void>;
}

/** A calls B (call_id `callId`) by to-device; resolves once both peers are connected. */
async function call(
  hs: TestHomeserver,
  ua: User,
  ub: User,
  callId: string,
  t: { teardown(fn: () => unknown): void },
) {
  const pc = () => new RTCPeerConnection({ ...weriftIce(), codecs: { video: [useVP8()] } });
  const a = pc();
  const b = pc();
  let stopped = false;
  const close = async () => {
    stopped = true;
    await a.close();
    await b.close();
  };
  t.teardown(close);
  const received: number[] = [];
  b.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((p) => received.push(p.header.sequenceNumber));
  });
  const trickle = (pcx: RTCPeerConnection, from: User, to: User) => {
    pcx.onIceCandidate.subscribe((c) => {
      if (c?.candidate) {
        void send(from, to, 'm.call.candidates', {
          call_id: callId,
          candidates: [{ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex }],
        });
      }
    });
  };
  trickle(a, ua, ub);
  trickle(b, ub, ua);
  /** Applies `u`'s call events in order as they arrive. */
  const pump = async (u: User, pcx: RTCPeerConnection) => {
    let done = 0;
    while (!stopped) {
      const mine = hs.toDeviceInbox(u.userId, u.deviceId).filter((m) => m.content['call_id'] === callId);
      for (const m of mine.slice(done)) {
        done++;
        if (m.type === 'm.call.invite') {
          await pcx.setRemoteDescription(m.content['offer'] as { type: 'offer'; sdp: string });
          await pcx.setLocalDescription(await pcx.createAnswer());
          await send(u, ua, 'm.call.answer', {
            call_id: callId,
            answer: { type: 'answer', sdp: pcx.localDescription!.sdp },
          });
        } else if (m.type === 'm.call.answer') {
          await pcx.setRemoteDescription(m.content['answer'] as { type: 'answer'; sdp: string });
        } else if (m.type === 'm.call.candidates') {
          for (const c of m.content['candidates'] as {
            candidate: string;
            sdpMid?: string;
            sdpMLineIndex?: number;
          }[]) {
            await pcx.addIceCandidate(c).catch(() => undefined);
          }
        }
      }
      await sleep(20);
    }
  };
  void pump(ua, a);
  void pump(ub, b);
  const sender = a.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  await a.setLocalDescription(await a.createOffer());
  await send(ua, ub, 'm.call.invite', {
    call_id: callId,
    offer: { type: 'offer', sdp: a.localDescription!.sdp },
  });
  await waitFor(
    () => a.connectionState === 'connected' && b.connectionState === 'connected',
    20_000,
    `call ${callId} connected`,
  );
  let seq = 1000;
  const stream = (pps: number) => {
    let sent = 0;
    const first = seq;
    const timer = setInterval(() => {
      const header = new RtpHeader({ sequenceNumber: seq, timestamp: seq * 900, marker: true });
      seq = (seq + 1) & 0xffff;
      sent++;
      sender.sender.sendRtp(new RtpPacket(header, Buffer.alloc(200, 1))).catch(() => undefined);
    }, 1000 / pps);
    return {
      sent: () => sent,
      first,
      stop: () => {
        clearInterval(timer);
      },
    };
  };
  const c: Call = { a, b, sender, received, stream, close };
  return c;
}

t.test('a call between two users of two server names goes through the trunk relay', async (t) => {
  const hs = await startTestHomeserver({
    serverName: 'a.example',
    logger: false,
    federation: [{ serverName: 'b.example' }],
  });
  t.teardown(() => hs.close());
  const user = (name: string, serverName: string): User => {
    const u = hs.createUser(name, { serverName, deviceId: `${name.toUpperCase()}DEV` });
    return { ...u, url: hs.urlOf(serverName) };
  };
  const ua = user('focusa', 'a.example');
  const ub = user('focusb', 'b.example');
  const other = user('carol', 'a.example');
  const trunk: TrunkRelay = await relayCallsBetween(hs, ua.userId, ub.userId);
  t.teardown(() => {
    trunk.close();
  });

  const c1 = await call(hs, ua, ub, 'link-1', t);
  t.same(trunk.calls, ['link-1'], 'one relay for the call');
  t.ok(trunk.rewritten.a > 0 && trunk.rewritten.b > 0, 'candidates of both sides rewritten');
  const aSaw = new Set(portsSeenBy(hs, ua, 'link-1'));
  const bSaw = new Set(portsSeenBy(hs, ub, 'link-1'));
  t.equal(aSaw.size, 1, 'A was told one port for B');
  t.equal(bSaw.size, 1, 'B was told one port for A');
  const aPort = c1.a.iceTransports[0]?.connection.localCandidates.map((x) => x.port) ?? [];
  t.notOk(
    aPort.some((p) => bSaw.has(p)),
    "B never saw A's own port",
  );
  t.ok(
    trunk.stats('ab').forwarded > 0 && trunk.stats('ba').forwarded > 0,
    'ICE and DTLS went through it both ways',
  );

  // RTP: what A sent, what the relay counted under A's SSRC, and what B received agree.
  const ssrc = c1.sender.sender.ssrc;
  const s1 = c1.stream(100);
  await sleep(1500);
  s1.stop();
  await waitFor(() => c1.received.length >= s1.sent(), 5000, 'B received every packet');
  const counted = trunk.stats('ab').perSsrc.get(ssrc);
  t.equal(counted?.packets, s1.sent(), 'relay counted every RTP packet under the sender SSRC');
  t.equal(c1.received.length, s1.sent());

  // Blackhole both ways: nothing arrives; lifted: media resumes.
  const s2 = c1.stream(100);
  await sleep(300);
  const hole = trunk.blackhole(1500);
  await sleep(200);
  const before = c1.received.length;
  await sleep(1000);
  t.equal(c1.received.length, before, 'nothing received while blackholed');
  await hole;
  t.ok(trunk.stats('ab').droppedBlackhole > 50, `RTP dropped a→b (${trunk.stats('ab').droppedBlackhole})`);
  t.ok((trunk.stats('ab').perSsrc.get(ssrc)?.dropped ?? 0) > 50, 'counted under the SSRC');
  const after = c1.received.length;
  await waitFor(() => c1.received.length > after + 20, 5000, 'media resumed after the blackhole');
  s2.stop();

  // 10 % random loss a→b (werift may retransmit on NACK): every packet sent either reached B or was dropped
  // by the relay, and the drops are recorded per SSRC by sequence number.
  await sleep(500);
  trunk.setRules('ab', { loss: 0.1 });
  const s3 = c1.stream(100);
  await sleep(2000);
  s3.stop();
  await sleep(500);
  trunk.setRules('ab', {});
  const inS3 = (q: number) => ((q - s3.first) & 0xffff) < s3.sent();
  const got = new Set(c1.received.filter(inS3));
  const lostSeqs = new Set((trunk.stats('ab').droppedRtp.get(ssrc)?.seqs ?? []).filter(inS3));
  t.ok(
    lostSeqs.size > 3 && lostSeqs.size < 50,
    `about 10 % of ${s3.sent()} packets dropped at least once (${lostSeqs.size})`,
  );
  const missing = [...Array(s3.sent()).keys()]
    .map((i) => (s3.first + i) & 0xffff)
    .filter((q) => !got.has(q) && !lostSeqs.has(q));
  t.same(missing, [], 'every packet sent reached B or was dropped by the relay');
  t.ok(got.size >= s3.sent() - lostSeqs.size, 'B got everything the relay did not drop');

  // A second call (a relink with a new call_id) gets its own relay; someone else's call events pass untouched.
  await c1.close();
  const c2 = await call(hs, ua, ub, 'link-2', t);
  t.same(trunk.calls, ['link-1', 'link-2']);
  const s4 = c2.stream(50);
  await waitFor(() => c2.received.length > 20, 5000, 'media on the second call');
  s4.stop();
  t.ok((trunk.stats('ab').perSsrc.get(c2.sender.sender.ssrc)?.packets ?? 0) > 20, 'through the relay');
  const cand = { call_id: 'x', candidates: [{ candidate: 'candidate:1 1 udp 1 127.0.0.1 4000 typ host' }] };
  await send(other, ub, 'm.call.candidates', cand);
  t.same(hs.toDeviceInbox(ub.userId, ub.deviceId).at(-1)?.content, cand, 'other users: untouched');
  t.equal(trunk.starved, 0);
  t.same(hs.rejections, [], 'the homeserver rejected nothing');
});
