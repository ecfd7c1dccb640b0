/**
 * Loss recovery with real peers through an in-process UDP relay (loopback): a libwebrtc (@roamhq/wrtc)
 * publisher behind one relay, a werift subscriber connected directly and one behind a second relay. Random
 * loss on the publisher leg is repaired by the SFU's own NACKs to the publisher; loss on the subscriber leg
 * by the subscriber's NACKs answered from the SFU's retransmission buffer. Counted by sequence number at the
 * subscribers (the forwarded stream has no gaps of its own), against what the relay dropped.
 * And a subscriber that NACKs everything, repeatedly, cannot make the SFU send it more than twice the stream;
 * NACK and PLI floods are ignored past the feedback budget and hung up, the publisher and others unaffected.
 */
import t from 'tap';
import { startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import {
  asWerift,
  joinWithMedia,
  streamOf,
  subscribe,
  type MediaClient,
} from '../../../harness/mediaCall.js';
import { RelayedPeer } from '../../../harness/peers/relayedPeer.js';
import type { WeriftPeer } from '../../../harness/peers/weriftPeer.js';
import { nackPacket, pliPacket } from '../../../harness/rtcpPackets.js';
import type { TestPeer } from '../../../harness/peers/types.js';
import { SeqLedger } from '../../../harness/rtpCheck.js';
import { udpReceiveBufferErrors } from '../../../harness/net.js';
import { waitFor } from '../../../harness/stack.js';
import { UdpRelay, type Direction } from '../../../harness/udpRelay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(cs: CallStack, name: string, labels = ''): Promise<number> {
  const text = await cs.sfu.metrics.registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

/** A video subscriber: its seq ledger fed from the werift peer. */
async function videoSubscriber(
  cs: CallStack,
  name: string,
  owner: string,
  relay?: UdpRelay,
): Promise<{ mc: MediaClient; ledger: SeqLedger }> {
  const c = await cs.client(name, relay !== undefined ? { relay } : {});
  const mc = await joinWithMedia(cs, c, {});
  const s = await streamOf(mc, owner, { video: true });
  const ledger = new SeqLedger();
  asWerift(c.peer).onRtp((r) => {
    if (r.kind === 'video') {
      ledger.add(r.seq);
    }
  });
  await subscribe(
    mc,
    [{ stream_id: s.streamId, track_id: s.video!, width: 640, height: 360 }],
    `sub-${name}`,
  );
  await waitFor(() => (ledger.highest ?? 0) > 65536 + 100, 20_000, `${name} receives video`);
  return { mc, ledger };
}

/**
 * A client subscribed to `owner`'s video that writes its own feedback (floods, storms): its peer, the SSRC it
 * receives the video on and the last sequence number seen, once the video arrives.
 */
async function feedbackSender(
  cs: CallStack,
  name: string,
  owner: string,
  relay?: UdpRelay,
): Promise<{ c: TestCallClient; peer: WeriftPeer; ssrc: number; seq: () => number }> {
  const c = await cs.client(name, relay !== undefined ? { relay } : {});
  const mc = await joinWithMedia(cs, c, {});
  const s = await streamOf(mc, owner, { video: true });
  const peer = asWerift(c.peer);
  let ssrc = 0;
  let seq = 0;
  peer.onRtp((r) => {
    if (r.kind === 'video') {
      ssrc = r.ssrc;
      seq = r.seq;
    }
  });
  await subscribe(mc, [{ stream_id: s.streamId, track_id: s.video! }], `sub-${name}`);
  await waitFor(() => ssrc !== 0, 20_000, `video at ${name}`);
  return { c, peer, ssrc, seq: () => seq };
}

/** One lossy period on one relay direction; returns what the relay dropped and what never arrived. */
async function lossyPeriod(
  relay: UdpRelay,
  dir: Direction,
  pts: ReadonlySet<number>,
  loss: number,
  ledger: SeqLedger,
  ms: number,
): Promise<{ dropped: number; unrepaired: number }> {
  const dropsBefore = relay.droppedCount(dir, pts);
  const from = ledger.highest!;
  relay.setRules(dir, { loss });
  await sleep(ms);
  relay.setRules(dir, {});
  const to = ledger.highest!;
  const dropped = relay.droppedCount(dir, pts) - dropsBefore;
  await sleep(1500); // repairs in flight
  return { dropped, unrepaired: ledger.holes(from, to) };
}

function vp8Types(p: TestPeer): Set<number> {
  if (!(p instanceof RelayedPeer)) {
    throw new Error('expected a peer behind a relay');
  }
  return p.payloadTypes.get('vp8') ?? new Set();
}

t.test('NACK repair: publisher leg and subscriber leg at 0 %, 2 % and 10 % random loss', async (t) => {
  const cs = await startCallStack(t);
  const pubRelay = await UdpRelay.create(11);
  const subRelay = await UdpRelay.create(23);
  const alice = await cs.client('alice', { kind: 'wrtc', relay: pubRelay });
  await joinWithMedia(cs, alice, { audio: true, video: true });
  const bob = await videoSubscriber(cs, 'bob', alice.userId);
  const carol = await videoSubscriber(cs, 'carol', alice.userId, subRelay);
  const pubPts = vp8Types(alice.peer);
  const subPts = vp8Types(carol.mc.c.peer);
  t.ok(pubPts.size > 0 && subPts.size > 0, 'VP8 payload types known from the SDPs');
  await sleep(2000); // warm-up: connection start-up is not what is measured

  const nacksBefore = await metric(cs, 'sfu_nack_sent_total');
  const kernelBefore = udpReceiveBufferErrors();
  const cleanFrom = bob.ledger.highest!;
  await sleep(5000);
  const nacksClean = (await metric(cs, 'sfu_nack_sent_total')) - nacksBefore;
  const kernelDrops = udpReceiveBufferErrors() - kernelBefore;
  t.comment(
    `0 % loss: ${bob.ledger.highest! - cleanFrom} packets at bob, ${nacksClean} NACKed upstream, ` +
      `${kernelDrops} datagrams dropped by this machine's kernel meanwhile`,
  );
  if (kernelDrops === 0) {
    t.equal(nacksClean, 0, 'no loss: the SFU sends no NACK upstream');
  } else {
    // The machine itself lost datagrams (full socket buffers under load): NACKs are then right, but few.
    t.ok(nacksClean <= kernelDrops * 10, 'no relay loss: NACKs only for what the kernel dropped');
  }
  t.equal(bob.ledger.holes(cleanFrom, bob.ledger.highest!), 0, 'no loss: nothing missing');

  for (const [loss, need] of [
    [0.02, 0.99],
    [0.1, 0.95],
  ] as const) {
    const pct = `${loss * 100} %`;
    const up = await lossyPeriod(pubRelay, 'up', pubPts, loss, bob.ledger, 6000);
    const upRepaired = 1 - up.unrepaired / up.dropped;
    t.comment(
      `${pct} on the publisher leg: ${up.dropped} video packets dropped, ${up.unrepaired} never reached bob ` +
        `(${(upRepaired * 100).toFixed(1)} % repaired)`,
    );
    t.ok(up.dropped > 10, `${pct} publisher leg: the relay dropped packets`);
    t.ok(upRepaired >= need, `${pct} publisher leg: ≥ ${need * 100} % repaired`);

    const down = await lossyPeriod(subRelay, 'down', subPts, loss, carol.ledger, 6000);
    const downRepaired = 1 - down.unrepaired / down.dropped;
    t.comment(
      `${pct} on a subscriber leg: ${down.dropped} video packets dropped, ${down.unrepaired} never reached ` +
        `carol (${(downRepaired * 100).toFixed(1)} % repaired)`,
    );
    t.ok(down.dropped > 10, `${pct} subscriber leg: the relay dropped packets`);
    t.ok(downRepaired >= need, `${pct} subscriber leg: ≥ ${need * 100} % repaired`);
  }
  const sent = await metric(cs, 'sfu_nack_sent_total');
  const repaired = await metric(cs, 'sfu_nack_repaired_total');
  const answered = await metric(cs, 'sfu_retransmitted_packets_total', '{result="sent"}');
  const received = await metric(cs, 'sfu_nack_received_total');
  t.comment(
    `NACKed upstream ${sent}, repaired ${repaired}; NACKed by subscribers ${received}, resent ${answered}`,
  );
  t.ok(sent > 0 && repaired > 0, 'upstream NACKs counted, and repairs');
  t.ok(received > 0 && answered > 0, 'subscriber NACKs counted, and retransmissions');
});

t.test(
  'a NACK storm does not raise what the SFU sends above 2× the stream; impossible feedback is ignored',
  async (t) => {
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'wrtc' });
    await joinWithMedia(cs, alice, { audio: true, video: true });
    const relay = await UdpRelay.create(5);
    const { peer, ssrc, seq } = await feedbackSender(cs, 'dave', alice.userId, relay);
    await sleep(2000);

    const down = relay.stats('down');
    const bytesBefore = down.bytes;
    const repeatedBefore = down.repeatedRtpBytes;
    let storms = 0;
    const storm = setInterval(() => {
      // Everything the SFU may still hold (the last 500 sequence numbers, ≈ 2 s), every 20 ms; wraps below 0.
      void peer.sendRtcp(nackPacket(1, ssrc, (seq() - 499) & 0xffff, 500)).catch(() => undefined);
      storms++;
    }, 20);
    await sleep(4000).finally(() => {
      clearInterval(storm);
    });
    const total = down.bytes - bytesBefore;
    const resent = down.repeatedRtpBytes - repeatedBefore;
    const stream = total - resent; // first transmissions (and RTCP), in the same 4 s
    const ratio = total / stream;
    t.comment(
      `during ${storms} NACKs of 500 seqs in 4 s: stream ${(stream / 4000).toFixed(1)} kB/s, ` +
        `retransmissions ${(resent / 4000).toFixed(1)} kB/s: the SFU sent ×${ratio.toFixed(2)} the stream`,
    );
    t.ok(stream > 0, 'the stream flows');
    t.ok(resent > 0, 'retransmissions reached the subscriber');
    t.ok(ratio <= 2, 'at most twice the stream rate during the storm');
    t.ok(
      (await metric(cs, 'sfu_retransmitted_packets_total', '{result="rate_limited"}')) > 0,
      'rate limited',
    );
    t.ok((await metric(cs, 'sfu_retransmitted_packets_total', '{result="sent"}')) > 0, 'some resent');
    const received = await metric(cs, 'sfu_nack_received_total');
    t.ok(received > 0 && received <= storms * 512, 'NACKed seqs counted, bounded per NACK packet');
    t.equal(peer.connectionState(), 'connected', 'the subscriber is still connected');

    // Impossible feedback values: bounded, ignored, never a crash or a stall. The storm's last NACKs may still
    // be on their way through the relay: let them land before counting.
    await sleep(500);
    const receivedBefore = await metric(cs, 'sfu_nack_received_total');
    const bad = [
      nackPacket(1, ssrc, 65530, 17 * 255), // 255 full FCI entries (4,335 seqs) wrapping past 65535
      rtcp(205, 1, [1, ssrc], Buffer.from([0xff, 0xff, 0xff, 0xff])), // PID 65535 with every BLP bit
      rtcp(206, 15, [1, 0], Buffer.from('REMB\x01\x00\x00\x00', 'latin1'), [ssrc]), // REMB of 0 bit/s
      rtcp(206, 15, [1, 0], Buffer.from('REMB\x01\xff\xff\xff', 'latin1'), [ssrc]), // 2^63 × 262143 bit/s
      // Transport-wide CC claiming 65,535 packet statuses with one chunk (never negotiated, still parsed).
      rtcp(205, 15, [1, ssrc], Buffer.from([0, 1, 0xff, 0xff, 0, 0, 0, 1, 0x20, 0x01])),
      rtcp(205, 1, [1, ssrc], Buffer.alloc(0)), // a NACK without FCI
    ];
    for (const b of bad) {
      await peer.sendRtcp(b);
    }
    const seqBefore = seq();
    await sleep(1500);
    const receivedNow = (await metric(cs, 'sfu_nack_received_total')) - receivedBefore;
    t.ok(receivedNow <= 2 * 512, `NACKed seqs taken from the bad packets are bounded (${receivedNow})`);
    t.not(seq(), seqBefore, 'video still flows after the bad feedback');
    t.equal(peer.connectionState(), 'connected', 'still connected');
  },
);

t.test(
  'an RTCP feedback flood (NACKs far over the budget) is ignored, then the flooder is hung up; the publisher stays',
  async (t) => {
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'wrtc' });
    await joinWithMedia(cs, alice, { audio: true, video: true });
    const { c: mallory, peer, ssrc } = await feedbackSender(cs, 'mallory', alice.userId);
    // 50 NACKs of 512 seqs every 20 ms: ≈ 1.3 M NACKed seqs a second against a budget of 20,000.
    const flood = setInterval(() => {
      for (let i = 0; i < 50; i++) {
        void peer.sendRtcp(nackPacket(1, ssrc, i * 512, 512)).catch(() => undefined);
      }
    }, 20);
    try {
      const hangup = await mallory.waitForHangup(15_000);
      t.equal(hangup['reason'], 'unknown_error');
      t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_LIMIT_EXCEEDED' }, 'the error says why');
    } finally {
      clearInterval(flood);
    }
    t.ok((await metric(cs, 'sfu_rtcp_feedback_ignored_total')) > 0, 'feedback over the budget was ignored');
    await waitFor(() => cs.sfu.conferences.sessionCount === 1, 10_000, 'only the flooder is gone');
    t.equal(alice.peer.connectionState(), 'connected', 'the publisher is still connected');
  },
);

t.test(
  'a PLI flood: the publisher gets only the coalesced keyframe requests, the flooder is hung up, a quiet subscriber keeps its video',
  async (t) => {
    const cs = await startCallStack(t);
    const alice = await cs.client('alice', { kind: 'wrtc' });
    await joinWithMedia(cs, alice, { audio: true, video: true });
    const bob = await videoSubscriber(cs, 'bob', alice.userId);
    const { c: mallory, peer, ssrc } = await feedbackSender(cs, 'mallory', alice.userId);
    const label = '{reason="subscriber"}';
    const requestsBefore = await metric(cs, 'sfu_keyframe_requests_total', label);
    // 20 PLIs every 10 ms: 2,000 a second, 100,000 feedback units against a budget of 20,000.
    const pli = pliPacket(1, ssrc);
    const startedAt = Date.now();
    const flood = setInterval(() => {
      for (let i = 0; i < 20; i++) {
        void peer.sendRtcp(pli).catch(() => undefined);
      }
    }, 10);
    let floodMs: number;
    try {
      const hangup = await mallory.waitForHangup(15_000);
      floodMs = Date.now() - startedAt;
      t.equal(hangup['reason'], 'unknown_error');
      t.match(hangup['org.matrix.msc3898.error'], { errcode: 'M_LIMIT_EXCEEDED' }, 'the error says why');
    } finally {
      clearInterval(flood);
    }
    const requests = (await metric(cs, 'sfu_keyframe_requests_total', label)) - requestsBefore;
    t.comment(`${requests} keyframe requests reached the publisher in ${floodMs} ms of flood`);
    // media.pli_min_interval_ms (500) coalesces a layer's requests; a second's slack for the hangup's timing.
    t.ok(requests <= Math.ceil(floodMs / 500) + 2, `keyframe requests stayed coalesced (${requests})`);
    t.ok((await metric(cs, 'sfu_rtcp_feedback_ignored_total')) > 0, 'feedback over the budget was ignored');
    await waitFor(() => cs.sfu.conferences.sessionCount === 2, 10_000, 'only the flooder is gone');
    const seen = bob.ledger.highest ?? 0;
    await waitFor(() => (bob.ledger.highest ?? 0) > seen + 50, 10_000, 'bob still receives video');
    t.equal(alice.peer.connectionState(), 'connected', 'the publisher is still connected');
  },
);

/** One RTCP packet: header (V=2, FMT/count, PT, length), the given 32-bit words, `body`, then `after`. */
function rtcp(pt: number, fmt: number, words: number[], body: Buffer, after: number[] = []): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const len = 4 + 4 * words.length + body.length + pad + 4 * after.length;
  const b = Buffer.alloc(len);
  b[0] = 0x80 | fmt;
  b[1] = pt;
  b.writeUInt16BE(len / 4 - 1, 2);
  words.forEach((w, i) => b.writeUInt32BE(w >>> 0, 4 + 4 * i));
  body.copy(b, 4 + 4 * words.length);
  after.forEach((w, i) => b.writeUInt32BE(w >>> 0, 4 + 4 * words.length + body.length + pad + 4 * i));
  return b;
}
