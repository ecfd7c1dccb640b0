// Link floods (protocol.md §8.8): the link's data channel takes LINK_MESSAGE_FACTOR × limits.dc_messages_per_second,
// bursts of two seconds' worth; over it messages are refused unparsed with at most one `M_LIMIT_EXCEEDED` error a
// second, and past the flood bound the link is hung up `unknown_error` + `M_LIMIT_EXCEEDED` and re-invited after
// the backoff; the same for the remote focus's RTCP feedback past its bound (the link peer's `flood`).
import t from 'tap';
import { LINK_MESSAGE_FACTOR } from '../../../src/conference/linkCalls.js';
import { FLOOD_FACTOR } from '../../../src/util/messageBudget.js';
import { FOCUS, join } from './fakes.js';
import { advance, linkRef, linkRig, REMOTE, settle, type LinkRig } from './linkCallFakes.js';

const RATE = 5; // limits.dc_messages_per_second in these tests: the link takes LINK_MESSAGE_FACTOR × it

async function linkOut(r: LinkRig): Promise<string> {
  r.presence([FOCUS, 1], [REMOTE, 1]);
  await r.conf.dispatch({ kind: 'recheck' });
  await settle(r);
  const invite = r.signal.take().find((s) => s.type === 'm.call.invite');
  if (invite === undefined) {
    throw new Error('no invite sent');
  }
  const callId = invite.content['call_id'] as string;
  await r.conf.dispatch({ kind: 'answer', session: linkRef(REMOTE, callId), sdp: 'v=0\r\nTHEIRS\r\n' });
  r.linkMedia.last().open();
  await settle(r);
  return callId;
}

const alive = (id: string) => JSON.stringify({ op: 'alive', id });

t.test('within the burst every message is applied; over it refused with one error a second', async (t) => {
  const r = linkRig({}, { dc_messages_per_second: RATE });
  await join(r, 'alice');
  await linkOut(r);
  const peer = r.linkMedia.last();
  peer.sent();
  const linkRate = LINK_MESSAGE_FACTOR * RATE;
  const burst = 2 * linkRate;
  for (let i = 0; i < burst + 30; i++) {
    peer.emit('dcmessage', alive(`a${i}`));
  }
  await settle(r);
  const out = peer.sent();
  t.equal(out.filter((m) => m['op'] === 'ack').length, burst, 'the burst acknowledged');
  t.match(
    out.filter((m) => m['op'] === 'error'),
    [{ errcode: 'M_LIMIT_EXCEEDED' }],
    'thirty refused, one error',
  );
  await advance(r, 1000);
  peer.sent();
  for (let i = 0; i < linkRate + 10; i++) {
    peer.emit('dcmessage', alive(`b${i}`));
  }
  await settle(r);
  const later = peer.sent();
  t.equal(later.filter((m) => m['op'] === 'ack').length, linkRate, 'a second later: a second’s worth');
  t.equal(later.filter((m) => m['op'] === 'error').length, 1, 'and one more error');
  t.same(
    r.signal.take().filter((s) => s.type === 'm.call.hangup'),
    [],
    'not hung up',
  );
});

t.test('past the flood bound the link is hung up M_LIMIT_EXCEEDED and re-invited later', async (t) => {
  const r = linkRig({}, { dc_messages_per_second: RATE });
  await join(r, 'alice');
  const callId = await linkOut(r);
  const peer = r.linkMedia.last();
  r.signal.take();
  const linkRate = LINK_MESSAGE_FACTOR * RATE;
  const frames = 2 * linkRate + FLOOD_FACTOR * linkRate + 50;
  for (let i = 0; i < frames; i++) {
    peer.emit('dcmessage', alive(`f${i}`));
  }
  await settle(r);
  t.match(
    r.signal.take().filter((s) => s.type === 'm.call.hangup'),
    [
      {
        dest: { userId: REMOTE.user_id },
        content: {
          call_id: callId,
          reason: 'unknown_error',
          'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED' },
        },
      },
    ],
  );
  t.same(r.conf.links.snapshot(), [], 'the link is gone');
  await advance(r, 1100);
  t.equal(
    r.signal.take().filter((s) => s.type === 'm.call.invite').length,
    1,
    'still needed: re-invited after the backoff',
  );
});

t.test('a feedback flood from the remote focus hangs the link up the same way', async (t) => {
  const r = linkRig();
  await join(r, 'alice');
  const callId = await linkOut(r);
  const peer = r.linkMedia.last();
  r.signal.take();
  peer.emit('flood');
  peer.emit('flood');
  await settle(r);
  t.match(
    r.signal.take().filter((s) => s.type === 'm.call.hangup'),
    [
      {
        content: {
          call_id: callId,
          reason: 'unknown_error',
          'org.matrix.msc3898.error': { errcode: 'M_LIMIT_EXCEEDED' },
        },
      },
    ],
    'one hangup',
  );
});
