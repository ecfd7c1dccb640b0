/**
 * Bench smoke test: the `cascade` point works end to end — two real foci linked through the test homeserver,
 * a publisher on A, one subscriber on B and one on A in the probe process — and measures what it reports: the
 * trunk's packets against the demanded layers, delivery on both sides, and the hop both when the probe got
 * each packet and at its two sockets. No timing threshold: the figures are printed, not judged (the targets
 * are bench/runCascade.ts's, on this machine's runs in bench/README.md).
 */
import t from 'tap';
import { cascadePoint } from '../../bench/scenarios/cascade.js';
import { receiveBinding } from '../../src/media/udpReceive.js';

// One point: three 2-s windows after two foci start and link (≈ 40 s alone, more beside another test file).
t.setTimeout(300_000);

t.test('cascade with one subscriber on each focus, 2-s windows', async (t) => {
  const p = await cascadePoint(
    1,
    2,
    (s) => {
      t.comment(s);
    },
    { warmupS: 1 },
  );
  t.comment(JSON.stringify({ hopMs: p.hopMs, hopAtSocketMs: p.hopAtSocketMs, trunk: p.trunk.ratio }));
  t.equal(p.valid, true, 'the load was not saturated');
  t.equal(p.trunk.remoteIn !== undefined && p.trunk.remoteIn > 0, true, 'B counted relayed packets in');
  t.ok(p.trunk.ratio !== undefined && p.trunk.ratio <= 1.1, `trunk ÷ demanded ${p.trunk.ratio}`);
  t.ok(p.delivered.near >= 0.99 && p.delivered.far >= 0.99, `delivered ${JSON.stringify(p.delivered)}`);
  t.ok(p.hopMs.samples > 100, `the hop paired for ${p.hopMs.samples} packets`);
  if (receiveBinding() !== null) {
    t.equal(p.hopAtSocketMs?.samples, p.hopMs.samples, 'every hop sample also read at the sockets');
    t.ok(p.hopAtSocketMs?.p50 !== undefined, 'its quantiles');
  } else {
    t.equal(p.hopAtSocketMs, undefined, 'no batch reading without the add-on: not measured');
  }
});
