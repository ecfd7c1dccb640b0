/** A ConferenceManager over the fake ports (fakes.ts, linkCallFakes.ts), for the manager-level unit tests. */
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ConferenceManager } from '../../../src/conference/conferenceManager.js';
import { ConferenceMetrics } from '../../../src/conference/metrics.js';
import { FakeClock } from '../../helpers/fakeClock.js';
import { CASCADE, FakeMedia, FakeOracle, FakeSignal, FOCUS, LIMITS } from './fakes.js';
import { FakeLinkMedia, FakeRelay } from './linkCallFakes.js';

export function managerRig() {
  const clock = new FakeClock();
  const signal = new FakeSignal();
  const oracle = new FakeOracle();
  const linkMedia = new FakeLinkMedia();
  const registry = new Registry();
  const metrics = new ConferenceMetrics(registry);
  const relays: FakeRelay[] = [];
  const manager = new ConferenceManager({
    oracle,
    signal,
    media: new FakeMedia(),
    clock,
    log: pino({ level: 'silent' }),
    metrics,
    focus: FOCUS,
    limits: LIMITS,
    keepalive: { intervalMs: 5000, timeoutMs: 30000 },
    answerTimeoutMs: 10000,
    linkMedia,
    relays: {
      create: (d) => {
        const r = new FakeRelay(d);
        relays.push(r);
        return r;
      },
    },
    cascade: CASCADE,
    random: { random: () => 0.25 },
    changes: new EventEmitter(),
    membershipWaitMs: 5000,
  });
  return { clock, signal, oracle, linkMedia, registry, metrics, manager, relays };
}
