// The client's data-channel session (client/dc/session.ts) over a fake peer: answers focus offers in the
// offer's dialect (echoing A ids, B with the client's own metadata), pongs B pings, sends `alive` only once
// the client spoke A (§5.5), records breaches, and stops on close.
import t from 'tap';
import { DcSession } from '../../../client/dc/session.js';
import { FakePeer, until } from './fakePeer.js';

const sent = (p: FakePeer): unknown[] => p.sentData.map((s) => JSON.parse(s));

t.test('a dialect-A offer is applied and answered with its id', async (t) => {
  const peer = new FakePeer();
  const s = new DcSession(peer);
  peer.receive({ op: 'offer', id: 'sfu-1', sdp: 'v=0\r\noffer', metadata: { x: { tracks: {} } } });
  await until(() => s.answered === 1, 'the answer');
  t.same(peer.remote, [{ type: 'offer', sdp: 'v=0\r\noffer' }]);
  t.same(sent(peer), [{ op: 'answer', id: 'sfu-1', sdp: 'v=0\r\nanswer-1\r\n' }]);
  t.same(s.metadata, {}, 'an offer’s metadata is not the snapshot');
  t.same(s.violations, []);
});

t.test('a dialect-B offer is answered by m.call.negotiate with the client’s metadata', async (t) => {
  const peer = new FakePeer();
  const own = { mine: { purpose: 'm.usermedia', tracks: { a: { kind: 'audio' } } } };
  const s = new DcSession(peer, { ownMetadata: () => own });
  peer.receive({
    type: 'm.call.negotiate',
    content: { description: { type: 'offer', sdp: 'v=0\r\nB' }, sdp_stream_metadata: {} },
  });
  await until(() => s.answered === 1, 'the answer');
  t.same(sent(peer), [
    {
      type: 'm.call.negotiate',
      content: { description: { type: 'answer', sdp: 'v=0\r\nanswer-1\r\n' }, sdp_stream_metadata: own },
    },
  ]);
});

t.test('offers are answered one at a time, in order; a refused offer is an error, not a crash', async (t) => {
  const peer = new FakePeer();
  const s = new DcSession(peer);
  peer.receive({ op: 'offer', id: 'sfu-1', sdp: 'one', metadata: {} });
  peer.receive({ op: 'offer', id: 'sfu-2', sdp: 'two', metadata: {} });
  await until(() => s.answered === 2, 'two answers');
  t.same(
    peer.remote.map((d) => d.sdp),
    ['one', 'two'],
  );
  t.same(
    sent(peer).map((m) => (m as { id: string }).id),
    ['sfu-1', 'sfu-2'],
  );
  peer.refuseRemote = 'bad sdp';
  peer.receive({ op: 'offer', id: 'sfu-3', sdp: 'three', metadata: {} });
  await until(() => s.errors.length === 1, 'the error');
  t.match(s.errors, [/sfu-3: bad sdp/]);
  t.equal(s.answered, 2);
});

t.test('B ping → pong; metadata snapshots; breaches recorded', async (t) => {
  const peer = new FakePeer();
  const s = new DcSession(peer);
  const seen: string[] = [];
  s.onMessage((m, d) => seen.push(`${d}:${m.kind}`));
  peer.receive({ type: 'm.call.ping', content: {} });
  t.same(sent(peer), [{ type: 'm.call.pong', content: {} }]);
  peer.receive({ type: 'm.call.sdp_stream_metadata_changed', content: { sdp_stream_metadata: { a: {} } } });
  peer.receive({ op: 'metadata', metadata: { b: {} } });
  t.same(s.metadata, { b: {} }, 'the latest snapshot, whatever its dialect');
  peer.receive('not json');
  peer.receive({ op: 'alive' });
  t.equal(s.violations.length, 2);
  t.same(seen, ['B:ping', 'B:metadata', 'A:metadata']);
});

t.test(
  'alive: none before the client speaks A, then every interval while connected; none after close',
  async (t) => {
    const peer = new FakePeer();
    const s = new DcSession(peer, { aliveIntervalMs: 10 });
    await new Promise((r) => setTimeout(r, 50));
    t.same(sent(peer), [], 'dialect B until the client speaks A');
    s.send('{"op":"subscribe","id":"1","start":[]}', 'A');
    await until(
      () => sent(peer).filter((m) => (m as { op?: string }).op === 'alive').length >= 2,
      'two alive',
    );
    s.close();
    const n = peer.sentData.length;
    await new Promise((r) => setTimeout(r, 50));
    t.equal(peer.sentData.length, n, 'closed: no more frames');
    peer.receive({ op: 'metadata', metadata: { late: {} } });
    t.same(s.metadata, {}, 'closed: frames ignored');
  },
);
