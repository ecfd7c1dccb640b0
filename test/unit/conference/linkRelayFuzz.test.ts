/**
 * Bad input on a link (issue 14 "Bad input"): every structural mutation of valid link frames (metadata,
 * subscribe, unsubscribe, layers) that the link parser accepts is handled without throwing, and afterwards no
 * relayed publication belongs to a member other than the one whose membership names the remote focus, and no local track
 * is shadowed by a relayed one.
 */
import t from 'tap';
import { parseLinkFrame } from '../../../src/protocol/dc/linkParse.js';
import { mutations } from '../../helpers/mutations.js';
import { join } from './fakes.js';
import { relayRig, remoteStream } from './linkRelayFakes.js';

const JUNK = [null, 0, -1, 4294967296, '', 'q', 'alice-s', [], {}, ['q', 'q'], { kind: 'audio' }];

t.test('mutated link frames never throw and never relay an unauthorized or colliding track', async (t) => {
  const rr = relayRig();
  await join(rr.r, 'alice');
  rr.relay.opened();
  rr.oracle.strict = true;
  rr.oracle.named.set('@carol:b.example|CAROLDEV', { user_id: '@sfu:b.example', device_id: 'FB' });
  rr.oracle.named.set('@mallory:b.example|MALLORYDEV', { user_id: '@sfu:c.example', device_id: 'FC' });
  const carol = JSON.stringify(['link', '@sfu:b.example|FB', '@carol:b.example', 'CAROLDEV']);
  const frames = [
    {
      op: 'metadata',
      metadata: { ...remoteStream('carol'), ...remoteStream('mallory', { ssrcBase: 9000 }) },
    },
    {
      op: 'subscribe',
      id: '1',
      start: [
        { stream_id: 'alice-s', track_id: 'alice-v', layers: ['f'] },
        { stream_id: 'alice-s', track_id: 'alice-a' },
      ],
    },
    { op: 'unsubscribe', stop: [{ stream_id: 'alice-s', track_id: 'alice-v' }] },
    { op: 'layers', tracks: [{ stream_id: 'carol-s', track_id: 'carol-v', sending: ['q'] }] },
  ];
  let handled = 0;
  let refused = 0;
  for (const frame of frames) {
    for (const m of mutations(frame, JUNK)) {
      const parsed = parseLinkFrame(JSON.stringify(m), { maxBytes: 1 << 20, maxListEntries: 200 });
      if (!parsed.ok) {
        refused++;
        continue;
      }
      rr.relay.handle(parsed.message);
      rr.relay.tick(rr.r.clock.now());
      handled++;
      const relayed = rr.r.conf.router.relayedOf('@sfu:b.example|FB');
      if (relayed.some((p) => p.owner !== carol || p.key === JSON.stringify(['alice-s', 'alice-a']))) {
        t.fail(`relayed what it must not after ${JSON.stringify(m)}`);
        return;
      }
    }
  }
  await rr.r.conf.idle();
  t.ok(handled > 50, `${handled} accepted mutations handled, ${refused} refused by the parser`);
  t.equal(rr.r.conf.router.find('alice-s', 'alice-a')?.origin.kind, 'session', 'alice keeps her track');
});
