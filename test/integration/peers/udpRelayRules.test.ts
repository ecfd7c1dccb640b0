/**
 * harness/udpRelay.ts on real loopback sockets: per-SSRC and RTCP counters, and the `blackhole` rule (every
 * datagram of one direction dropped while set, queued ones too; the other direction unaffected; restored after).
 */
import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import { waitFor } from '../../../harness/stack.js';
import { UdpRelay } from '../../../harness/udpRelay.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rtp(ssrc: number, seq: number, pt = 96): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq, 2);
  b.writeUInt32BE(seq * 90, 4);
  b.writeUInt32BE(ssrc, 8);
  return b;
}
/** An RTCP receiver report (PT 201) header and sender SSRC. */
const RR = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 7]);
/** A STUN binding request header (first byte 0: neither RTP nor RTCP). */
const STUN = Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

async function bound(): Promise<{ s: Socket; got: Buffer[] }> {
  const s = createSocket('udp4');
  const got: Buffer[] = [];
  s.on('message', (m: Buffer) => got.push(m));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { s, got };
}

t.test('per-SSRC counters, RTCP by type, blackhole one direction, restore', async (t) => {
  const relay = await UdpRelay.create(7);
  const client = await bound();
  const sfu = await bound();
  t.teardown(() => {
    relay.close();
    client.s.close();
    sfu.s.close();
  });
  relay.setSfuAddress('127.0.0.1', sfu.s.address().port);
  const up = (b: Buffer) => {
    client.s.send(b, relay.clientSidePort, '127.0.0.1');
  };
  const down = (b: Buffer) => {
    sfu.s.send(b, relay.sfuSidePort, '127.0.0.1');
  };

  for (let i = 0; i < 10; i++) {
    up(rtp(1111, i));
  }
  for (let i = 0; i < 5; i++) {
    up(rtp(2222, 100 + i, 111));
  }
  up(rtp(1111, 3)); // a retransmitted copy
  up(RR);
  up(STUN);
  await waitFor(() => sfu.got.length === 18, 5000, 'all 18 datagrams up');
  const s = relay.stats('up');
  t.same(s.perSsrc.get(1111), {
    pt: 96,
    packets: 11,
    bytes: 440,
    repeated: 1,
    lost: 0,
    lostSeqs: 0,
    repaired: 0,
    dropped: 0,
  });
  t.same(s.perSsrc.get(2222), {
    pt: 111,
    packets: 5,
    bytes: 200,
    repeated: 0,
    lost: 0,
    lostSeqs: 0,
    repaired: 0,
    dropped: 0,
  });
  t.same([...s.rtcpByType], [[201, 1]]);
  t.equal(s.forwarded, 18);
  down(rtp(3333, 1));
  await waitFor(() => client.got.length === 1, 5000, 'down reaches the client (its address learned)');

  relay.setRules('up', { blackhole: true });
  for (let i = 10; i < 20; i++) {
    up(rtp(1111, i));
  }
  up(RR);
  up(STUN);
  down(rtp(3333, 2));
  await waitFor(() => client.got.length === 2, 5000, 'the other direction still flows');
  await sleep(200);
  t.equal(sfu.got.length, 18, 'nothing up while blackholed');
  t.equal(relay.stats('up').droppedBlackhole, 12, 'RTP, RTCP and STUN all dropped');
  t.equal(relay.stats('up').perSsrc.get(1111)?.dropped, 10);

  relay.setRules('up', {});
  up(rtp(1111, 20));
  up(STUN);
  await waitFor(() => sfu.got.length === 20, 5000, 'restored');
  t.equal(relay.stats('up').perSsrc.get(1111)?.packets, 12);
});

t.test('a sequence number lost by rule and delivered later counts as repaired, once', async (t) => {
  const relay = await UdpRelay.create(10);
  const client = await bound();
  const sfu = await bound();
  t.teardown(() => {
    relay.close();
    client.s.close();
    sfu.s.close();
  });
  relay.setSfuAddress('127.0.0.1', sfu.s.address().port);
  const up = (b: Buffer) => {
    client.s.send(b, relay.clientSidePort, '127.0.0.1');
  };
  up(rtp(7, 1));
  await waitFor(() => sfu.got.length === 1, 5000);
  relay.setRules('up', { loss: 1 });
  up(rtp(7, 2));
  up(rtp(7, 3));
  up(rtp(7, 1)); // lost too, but it was delivered before: not awaiting repair
  await waitFor(() => relay.stats('up').droppedLoss === 3, 5000);
  relay.setRules('up', {});
  up(rtp(7, 2)); // the retransmission of a lost packet
  up(rtp(7, 2)); // and a second copy of it
  up(rtp(7, 1));
  await waitFor(() => sfu.got.length === 4, 5000);
  t.match(relay.stats('up').perSsrc.get(7), { lost: 3, lostSeqs: 2, repaired: 1, repeated: 2, packets: 4 });
});

t.test('blackhole also drops what was queued by a delay', async (t) => {
  const relay = await UdpRelay.create(8);
  const client = await bound();
  const sfu = await bound();
  t.teardown(() => {
    relay.close();
    client.s.close();
    sfu.s.close();
  });
  relay.setSfuAddress('127.0.0.1', sfu.s.address().port);
  relay.setRules('up', { delayMs: 300 });
  for (let i = 0; i < 5; i++) {
    client.s.send(rtp(1, i), relay.clientSidePort, '127.0.0.1');
  }
  await sleep(100); // received and queued, not yet out
  relay.setRules('up', { delayMs: 300, blackhole: true });
  await sleep(600);
  t.equal(sfu.got.length, 0, 'queued datagrams dropped');
  t.equal(relay.stats('up').droppedBlackhole, 5);
});

t.test('setClientAddress keeps the first address unless told to replace it', async (t) => {
  const relay = await UdpRelay.create(9);
  const a = await bound();
  const b = await bound();
  const sfu = await bound();
  t.teardown(() => {
    relay.close();
    a.s.close();
    b.s.close();
    sfu.s.close();
  });
  const send = () => {
    sfu.s.send(rtp(5, 1), relay.sfuSidePort, '127.0.0.1');
  };
  relay.setClientAddress('127.0.0.1', a.s.address().port);
  relay.setClientAddress('127.0.0.1', b.s.address().port);
  send();
  await waitFor(() => a.got.length === 1, 5000, 'to the first address');
  relay.setClientAddress('127.0.0.1', b.s.address().port, true);
  send();
  await waitFor(() => b.got.length === 1, 5000, 'to the replacement');
  t.equal(a.got.length, 1);
});
