import t from 'tap';
import { KeepAlive } from '../../../src/conference/keepalive.js';
import { FakeClock } from '../../helpers/fakeClock.js';

function setup() {
  const clock = new FakeClock(0);
  const events: string[] = [];
  const ka = new KeepAlive({
    clock,
    intervalMs: 5_000,
    timeoutMs: 30_000,
    sendPing: () => events.push(`ping@${clock.now()}`),
    onTimeout: () => events.push(`timeout@${clock.now()}`),
  });
  return { clock, events, ka };
}

t.test('pings every interval and times out after silence', async (t) => {
  const { clock, events, ka } = setup();
  ka.start();
  clock.advance(29_999);
  t.same(events, ['ping@5000', 'ping@10000', 'ping@15000', 'ping@20000', 'ping@25000']);
  clock.advance(1);
  t.same(events.at(-1), 'timeout@30000');
  clock.advance(60_000);
  t.equal(events.filter((e) => e.startsWith('timeout')).length, 1, 'once');
  t.equal(events.length, 6, 'no pings after the timeout');
  t.equal(clock.pendingTimers, 0);
});

t.test('any client message resets the timeout', async (t) => {
  const { clock, events, ka } = setup();
  ka.setPinging(false);
  ka.start();
  clock.advance(20_000);
  ka.touch();
  clock.advance(29_999);
  t.same(events, [], 'still alive 49.999 s after start');
  clock.advance(1);
  t.same(events, ['timeout@50000']);
});

t.test('dialect A: no pings; switching back to B pings again', async (t) => {
  const { clock, events, ka } = setup();
  ka.start();
  ka.setPinging(false);
  clock.advance(12_000);
  t.same(events, []);
  ka.setPinging(true);
  clock.advance(5_000);
  t.same(events, ['ping@17000']);
  ka.stop();
  clock.advance(100_000);
  t.same(events, ['ping@17000'], 'stop cancels everything');
});
