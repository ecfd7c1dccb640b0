/**
 * The event-loop delay behind `nodejs_eventloop_lag_*` is sampled at the configured period
 * (`http.event_loop_resolution_ms`, Metrics' `eventLoopResolutionMs`), 100 ms when none is given — not
 * prom-client's 10 ms, whose wake-ups were an idle cost. Node's histogram records the time between two
 * samples, so its minimum is the period: that is what is asserted (generous bounds; a loaded machine only
 * lengthens intervals, never shortens them).
 */
import t from 'tap';
import { DEFAULT_EVENT_LOOP_RESOLUTION_MS, Metrics } from '../../../src/observability/metrics.js';

async function lagMinSeconds(m: Metrics, waitMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, waitMs));
  // The histogram is read when the whole registry is collected (prom-client sets every lag gauge then).
  const all = await m.registry.getMetricsAsJSON();
  const metric = all.find((x) => x.name === 'nodejs_eventloop_lag_min_seconds');
  return metric?.values[0]?.value ?? Number.NaN;
}

t.test('a configured period: the smallest interval sampled is that period', async (t) => {
  const m = new Metrics({ eventLoopResolutionMs: 40 });
  const min = await lagMinSeconds(m, 500);
  t.ok(min >= 0.039, `min ${min} s ≥ 40 ms`);
  t.ok(min < 0.095, `min ${min} s is not the default's 100 ms`);
});

t.test('no period given: 100 ms, not prom-client default 10 ms', async (t) => {
  t.equal(DEFAULT_EVENT_LOOP_RESOLUTION_MS, 100);
  const m = new Metrics();
  const min = await lagMinSeconds(m, 800);
  t.ok(min >= 0.099, `min ${min} s ≥ 100 ms`);
});
