/**
 * media/udpFastPath: media datagrams taken from the UDP transport's `onData` before werift's chain.
 * - Stand-in shapes (werift 0.24.4's): what is taken (RTP and RTCP from the nominated pair's address, or from
 *   another pair of that socket whose checks succeeded, with a direct path) and what goes on to werift (STUN,
 *   DTLS, another address or socket, a pair still checking or failed, no nominated pair, an untapped session);
 *   a forgery is dropped and counted; installing twice wraps once, and a transport whose `onData` werift
 *   replaced is wrapped again; a TURN protocol and a foreign shape are left.
 * - A real werift pair on loopback: after installation the receiving side's werift handles none of the media
 *   (its DTLS transport's packet counter stays still) while the sinks get RTP and the sender's SRs; a forged
 *   datagram from the peer's own socket is counted as rejected; one from another socket goes to werift.
 */
import { createSocket } from 'node:dgram';
import t from 'tap';
import {
  classes,
  Message,
  methods,
  parseMessage,
  RtpHeader,
  RtpPacket,
  SrtcpSession,
  SrtpSession,
  type RTCDtlsTransport,
} from 'werift';
import { tapDecryptedRtp } from '../../../src/media/decryptedRtpTap.js';
import { tapSrtcp } from '../../../src/media/srtcpTap.js';
import { installUdpFastPath } from '../../../src/media/udpFastPath.js';
import { connectedWeriftPair } from '../../helpers/weriftPair.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type OnData = (data: Buffer, addr: readonly [string, number]) => void;

const key = Buffer.alloc(16, 3);
const salt = Buffer.alloc(12, 4);
const keys = { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt };

/**
 * werift 0.24.4's RTCDtlsTransport as the taps and the fast path use it: sessions assigned by
 * `updateSrtpSession`.
 */
class StandInDtls {
  constructor(
    public srtp: SrtpSession,
    public srtcp: SrtcpSession,
    public iceTransport: { connection: object },
  ) {}
  updateSrtpSession(srtp: SrtpSession): void {
    this.srtp = srtp;
  }
}

/** A stand-in DTLS transport over one STUN protocol whose UDP transport's `onData` records what werift got. */
function standIn() {
  const werift: Buffer[] = [];
  const sent: { data: Buffer; port: number; host: string }[] = [];
  const socket = {
    send: (data: Buffer, port: number, host: string) => {
      sent.push({ data, port, host });
    },
  };
  const transport = { type: 'udp', onData: ((d: Buffer) => werift.push(d)) as OnData, socket };
  const protocol = { type: 'stun', transport };
  const pair = (host: string, port: number, state: number, p: object = protocol) => ({
    remoteCandidate: { host, port },
    protocol: p,
    state,
  });
  const nominated = pair('127.0.0.9', 4000, SUCCEEDED);
  const connection: {
    protocols: object[];
    nominated: object | undefined;
    checkList: object[];
    localUsername: string;
    localPassword: string;
    iceControlling: boolean;
  } = {
    protocols: [protocol],
    nominated,
    checkList: [nominated],
    localUsername: 'loc1',
    localPassword: 'local-password-0123456',
    iceControlling: false,
  };
  const dtls = new StandInDtls(
    new SrtpSession({ keys, profile: 0x0007 }),
    new SrtcpSession({ keys, profile: 0x0007 }),
    { connection },
  );
  return { dtls, transport, protocol, connection, werift, sent, pair };
}

const asDtls = (x: object) => x as unknown as RTCDtlsTransport;
/** werift's CandidatePairState values. */
const IN_PROGRESS = 2;
const SUCCEEDED = 3;
const FAILED = 4;

t.test('stand-ins: taken, passed on, refused', async (t) => {
  const s = standIn();
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  let rejected = 0;
  t.ok(tapDecryptedRtp(asDtls(s.dtls), (d) => rtp.push(d)));
  t.ok(tapSrtcp(asDtls(s.dtls), (d) => rtcp.push(d)));
  t.equal(
    installUdpFastPath(s.dtls, () => rejected++),
    1,
  );
  const sender = new SrtpSession({ keys, profile: 0x0007 });
  const senderRtcp = new SrtcpSession({ keys, profile: 0x0007 });
  const header = (seq: number) =>
    new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: 1, ssrc: 7 });
  const from: [string, number] = ['127.0.0.9', 4000];
  const onData = () => s.transport.onData;

  onData()(sender.encrypt(Buffer.from([1, 2]), header(1)), from);
  t.equal(rtp.length, 1, 'RTP from the nominated address: ingested');
  const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]);
  onData()(senderRtcp.encrypt(rr), from);
  t.same(rtcp, [rr], 'RTCP from the nominated address: read');
  t.equal(s.werift.length, 0, 'werift got neither');

  const stun = Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  const dtlsRecord = Buffer.from([22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  onData()(stun, from);
  onData()(dtlsRecord, from);
  onData()(sender.encrypt(Buffer.from([3]), header(2)), ['127.0.0.9', 4001]);
  onData()(sender.encrypt(Buffer.from([3]), header(3)), ['127.0.0.8', 4000]);
  t.equal(s.werift.length, 4, 'STUN, DTLS, another port, another host: werift');
  t.equal(rtp.length, 1, 'none of them ingested');

  const forged = sender.encrypt(Buffer.from([4]), header(4));
  forged[forged.length - 1] = (forged[forged.length - 1] ?? 0) ^ 1;
  onData()(forged, from);
  t.equal(rejected, 1, 'a forgery from the nominated address: counted');
  t.equal(rtp.length + s.werift.length, 5, 'and dropped');

  const nominated = s.connection.nominated;
  s.connection.nominated = undefined;
  onData()(sender.encrypt(Buffer.from([5]), header(5)), from);
  t.equal(s.werift.length, 5, 'no nominated pair: werift');
  const onOtherSocket = s.pair(from[0], from[1], SUCCEEDED, {});
  s.connection.nominated = onOtherSocket;
  s.connection.checkList = [onOtherSocket];
  onData()(sender.encrypt(Buffer.from([6]), header(6)), from);
  t.equal(s.werift.length, 6, "the address's only pair on another socket: werift");
  s.connection.nominated = nominated;
  s.connection.checkList = [nominated as object];

  // The client sends from a pair of this socket that is not the focus's nominated one.
  const other = s.pair('127.0.0.7', 5000, IN_PROGRESS);
  const failed = s.pair('127.0.0.6', 6000, FAILED);
  const elsewhere = s.pair('127.0.0.5', 7000, SUCCEEDED, {});
  s.connection.checkList.push(other, failed, elsewhere);
  let n = 100;
  const fromPair = (p: { remoteCandidate: { host: string; port: number } }) => {
    onData()(sender.encrypt(Buffer.from([8]), header(n++)), [p.remoteCandidate.host, p.remoteCandidate.port]);
  };
  fromPair(other);
  t.equal(s.werift.length, 7, 'a pair still being checked: werift');
  other.state = SUCCEEDED;
  fromPair(other);
  fromPair(other);
  t.equal(rtp.length, 3, 'the same pair once its checks succeeded: ingested, twice');
  fromPair(failed);
  fromPair(elsewhere);
  t.equal(s.werift.length, 9, "a failed pair, a valid pair of another socket: werift's");
  other.state = FAILED;
  fromPair(other);
  t.equal(s.werift.length, 10, 'the pair once it failed: werift');
  other.state = SUCCEEDED;
  s.connection.nominated = undefined;
  fromPair(other);
  t.equal(s.werift.length, 11, 'a valid pair but no nominated one (ICE not done): werift');
  s.connection.nominated = nominated;
  fromPair(other);
  t.equal(rtp.length, 4, 'and taken again once there is');
  t.equal(rejected, 1, 'nothing more counted as forged');

  // A restart: the tap wraps the new session (its own direct path).
  s.dtls.updateSrtpSession(new SrtpSession({ keys, profile: 0x0007 }));
  onData()(sender.encrypt(Buffer.from([7]), header(n++)), from);
  t.equal(rtp.length, 5, 'a session assigned later: direct too');

  const fast = s.transport.onData;
  t.equal(
    installUdpFastPath(s.dtls, () => rejected++),
    1,
    'installing again',
  );
  t.equal(s.transport.onData, fast, 'wraps once');
  const replaced: Buffer[] = [];
  s.transport.onData = (d: Buffer) => replaced.push(d);
  t.equal(
    installUdpFastPath(s.dtls, () => rejected++),
    1,
  );
  t.not(s.transport.onData, fast, "werift's replacement is wrapped again");
  onData()(stun, from);
  t.equal(replaced.length, 1, 'and gets what werift should');
});

t.test('stand-ins: consent checks answered here, the other requests left to werift', async (t) => {
  const s = standIn();
  t.equal(
    installUdpFastPath(s.dtls, () => undefined),
    1,
  );
  const from: [string, number] = ['127.0.0.9', 4000];
  const request = (
    o: {
      username?: string;
      password?: string;
      role?: 'ICE-CONTROLLING' | 'ICE-CONTROLLED';
      useCandidate?: boolean;
    } = {},
  ) => {
    const m = new Message(methods.BINDING, classes.REQUEST)
      .setAttribute('USERNAME', o.username ?? 'loc1:rem1')
      .setAttribute('PRIORITY', 1853824767)
      .setAttribute(o.role ?? 'ICE-CONTROLLING', BigInt(12345));
    if (o.useCandidate === true) {
      m.setAttribute('USE-CANDIDATE', null);
    }
    return m.addMessageIntegrity(Buffer.from(o.password ?? 'local-password-0123456')).addFingerprint();
  };
  const consent = request();
  s.transport.onData(consent.bytes, from);
  t.equal(s.werift.length, 0, 'a consent check from the nominated pair: not werift');
  t.equal(s.sent.length, 1, 'answered');
  const answer = parseMessage(s.sent[0]!.data, Buffer.from('local-password-0123456'));
  t.ok(answer, "the answer verifies with our password (werift's parser)");
  t.equal(answer?.messageClass, 0x100, 'a success response');
  t.equal(answer?.transactionIdHex, consent.transactionIdHex, 'to that request');
  t.same(answer?.getAttributeValue('XOR-MAPPED-ADDRESS'), from, 'mapping the address it came from');
  t.same([s.sent[0]!.host, s.sent[0]!.port], from, 'sent back to it');

  const other = s.pair('127.0.0.7', 5000, SUCCEEDED);
  s.connection.checkList.push(other);
  s.transport.onData(request().bytes, ['127.0.0.7', 5000]);
  t.equal(s.sent.length, 2, 'from another valid pair of the socket: answered too');

  const toWerift: [string, Buffer, [string, number]][] = [
    ['a nomination (USE-CANDIDATE)', request({ useCandidate: true }).bytes, from],
    ['another ufrag (an ICE restart)', request({ username: 'new1:rem1' }).bytes, from],
    ['no colon in the username', request({ username: 'loc1' }).bytes, from],
    ['a wrong MESSAGE-INTEGRITY', request({ password: 'not-the-password-00000' }).bytes, from],
    [
      'a role conflict (ICE-CONTROLLED to the controlled side)',
      request({ role: 'ICE-CONTROLLED' }).bytes,
      from,
    ],
    ['from an address with no valid pair', request().bytes, ['127.0.0.8', 4000]],
    ['a response, not a request', s.sent[0]!.data, from],
  ];
  for (const [name, bytes, addr] of toWerift) {
    const before = s.werift.length;
    s.transport.onData(bytes, addr);
    t.equal(s.werift.length, before + 1, `${name}: werift's`);
  }
  t.equal(s.sent.length, 2, 'none of them answered here');
  s.connection.iceControlling = true;
  s.transport.onData(request({ role: 'ICE-CONTROLLED' }).bytes, from);
  t.equal(s.sent.length, 3, 'the controlling side answers ICE-CONTROLLED');
  s.transport.onData(request().bytes, from);
  t.equal(s.sent.length, 3, 'and leaves ICE-CONTROLLING (a conflict) to werift');
  s.connection.nominated = undefined;
  s.transport.onData(request({ role: 'ICE-CONTROLLED' }).bytes, from);
  t.equal(s.sent.length, 3, 'no nominated pair yet: werift answers');
});

t.test('stand-ins: shapes left alone', async (t) => {
  const untapped = standIn();
  t.equal(
    installUdpFastPath(untapped.dtls, () => undefined),
    1,
  );
  const sender = new SrtpSession({ keys, profile: 0x0007 });
  const h = new RtpHeader({ payloadType: 96, sequenceNumber: 1, timestamp: 1, ssrc: 7 });
  untapped.transport.onData(sender.encrypt(Buffer.from([1]), h), ['127.0.0.9', 4000]);
  t.equal(untapped.werift.length, 1, 'a session without a direct path: werift');

  const turn = standIn();
  (turn.protocol as { type: string }).type = 'turn';
  t.equal(
    installUdpFastPath(turn.dtls, () => undefined),
    0,
    'a TURN protocol: not wrapped',
  );
  t.equal(
    installUdpFastPath({}, () => undefined),
    0,
    'no ICE connection',
  );
  t.equal(
    installUdpFastPath({ iceTransport: { connection: { protocols: 3 } } }, () => undefined),
    0,
  );
  const frozen = standIn();
  Object.defineProperty(frozen.transport, 'onData', { value: frozen.transport.onData, writable: false });
  t.equal(
    installUdpFastPath(frozen.dtls, () => undefined),
    0,
    'onData not writable: left',
  );
});

interface Internals {
  iceTransports: {
    connection: {
      nominated?: {
        requestsReceived: number;
        responsesReceived: number;
        remoteCandidate: { host: string; port: number };
        protocol: { transport: { socket: { send: (b: Buffer, port: number, host: string) => void } } };
      };
    };
  }[];
}

t.test('a real werift pair: the media never reaches werift; forgeries counted', async (t) => {
  const { a, b, track } = await connectedWeriftPair(t);
  t.equal(b.connectionState, 'connected');
  const dtls = b.getTransceivers()[0]!.receiver.dtlsTransport;
  const rtp: Buffer[] = [];
  const rtcp: Buffer[] = [];
  let rejected = 0;
  t.ok(tapDecryptedRtp(dtls, (d) => rtp.push(d)));
  t.ok(tapSrtcp(dtls, (d) => rtcp.push(d)));
  const on = installUdpFastPath(dtls, () => rejected++);
  t.ok(on >= 1, `the receiver's UDP sockets are on the fast path (${on})`);
  const counted = () => (dtls as unknown as { packetsReceived: number }).packetsReceived;
  const before = counted();
  let seq = 100;
  const send = (n: number) => {
    for (let i = 0; i < n; i++) {
      const header = new RtpHeader({
        payloadType: 96,
        sequenceNumber: seq++,
        timestamp: seq * 3000,
        ssrc: 1,
      });
      track.writeRtp(new RtpPacket(header, Buffer.alloc(100, 1)));
    }
  };
  const deadline = Date.now() + 10_000;
  send(50);
  while ((rtp.length < 50 || !rtcp.some((p) => p[1] === 200)) && Date.now() < deadline) {
    await sleep(50);
  }
  t.equal(rtp.length, 50, 'every RTP packet reached the sink');
  t.ok(
    rtcp.some((p) => p[1] === 200),
    "the sender's SR reached the RTCP sink",
  );
  t.equal(counted(), before, "werift's DTLS transport handled none of it");

  const pairA = (a as unknown as Internals).iceTransports[0]!.connection.nominated!;
  const { host, port } = pairA.remoteCandidate;
  const fake = Buffer.alloc(60, 7);
  fake[0] = 0x80;
  fake[1] = 96;
  pairA.protocol.transport.socket.send(fake, port, host);
  const stranger = createSocket('udp4');
  t.teardown(() => {
    stranger.close();
  });
  await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
  stranger.send(fake, port, host);
  const until = Date.now() + 5000;
  while ((rejected < 1 || counted() === before) && Date.now() < until) {
    await sleep(20);
  }
  t.equal(rejected, 1, "a forgery from the peer's address: rejected on the fast path");
  t.equal(counted(), before + 1, "one from another socket: werift's (which drops it)");
  t.equal(rtp.length, 50, 'neither was ingested');

  // werift's consent checks (RFC 7675, every 4–6 s) from a are answered by b's fast path, not b's werift.
  const bPairs = () =>
    (b as unknown as { iceTransports: { connection: { checkList: { requestsReceived: number }[] } }[] })
      .iceTransports[0]!.connection.checkList;
  const requestsAtB = () => bPairs().reduce((n, p) => n + p.requestsReceived, 0);
  const seenByWerift = requestsAtB();
  const answered = pairA.responsesReceived;
  const consentBy = Date.now() + 15_000;
  while (pairA.responsesReceived < answered + 2 && Date.now() < consentBy) {
    await sleep(100);
  }
  t.ok(
    pairA.responsesReceived >= answered + 2,
    `a's consent checks were answered (${pairA.responsesReceived - answered})`,
  );
  t.equal(requestsAtB(), seenByWerift, "by b's fast path: b's werift saw none of them");
  t.equal(a.connectionState, 'connected', 'a still connected');
});
