/**
 * media/consentChecks with a real werift pair on loopback (short interval and timeout so the test is quick):
 * - once the fast path is installed on b, b's consent checks are its own: werift's loop stopped, our requests
 *   answered by a's werift (its parser accepts them; its answers authenticate here) every interval, and b stays
 *   connected well past the timeout;
 * - when a stops answering (its STUN sends dropped; media and DTLS still flow), b's ICE connection fails at the
 *   timeout — consent expired — and b's peer connection reports it.
 */
import t from 'tap';
import type { RTCPeerConnection } from 'werift';
import { ConsentChecks, type ConsentConnection } from '../../../src/media/consentChecks.js';
import { installUdpFastPath } from '../../../src/media/udpFastPath.js';
import { systemClock } from '../../../src/util/clock.js';
import { Ticker } from '../../../src/util/ticker.js';
import { connectedWeriftPair, until } from '../../helpers/weriftPair.js';

interface Conn extends ConsentConnection {
  state: string;
  nominated?: {
    responsesReceived: number;
    protocol: { transport: { socket: { send: (...args: unknown[]) => void } } };
  };
}
const iceOf = (pc: RTCPeerConnection) =>
  (pc as unknown as { iceTransports: { connection: Conn }[] }).iceTransports[0]!.connection;

t.test('a real werift pair: our checks answered by werift; unanswered, consent expires', async (t) => {
  const { a, b } = await connectedWeriftPair(t);
  t.ok(a.connectionState === 'connected' && b.connectionState === 'connected', 'connected');

  const timeoutMs = 2000;
  const errors: unknown[] = [];
  const checks = new ConsentChecks(new Ticker(systemClock, 50), systemClock, (e) => errors.push(e), {
    intervalMs: 250,
    timeoutMs,
  });
  const dtls = b.getTransceivers()[0]!.receiver.dtlsTransport;
  const conn = iceOf(b);
  t.ok(
    installUdpFastPath(
      dtls,
      () => undefined,
      () => undefined,
      checks,
    ) >= 1,
    'fast path on',
  );
  t.ok(checks.owns(conn), "b's consent is ours");
  t.equal(conn.queryConsentHandle, undefined, "werift's loop stopped");

  const started = Date.now();
  t.ok(
    await until(() => checks.counters.answered >= 4, 5000),
    `answered by a's werift (${checks.counters.answered})`,
  );
  await new Promise((r) => setTimeout(r, timeoutMs + 500 - (Date.now() - started)));
  t.equal(
    conn.state,
    'connected',
    `still connected ${Date.now() - started} ms after adopting (timeout ${timeoutMs})`,
  );
  t.equal(conn.consentFresh, true);
  t.ok(
    conn.nominated!.responsesReceived >= checks.counters.answered,
    "the pair's statistics count the answers",
  );
  t.ok(
    checks.counters.answered >= checks.counters.sent - 1,
    `every request answered but maybe the last (${checks.counters.answered} of ${checks.counters.sent})`,
  );

  // a stops answering: its STUN datagrams (first byte 0 or 1) are dropped; RTP, RTCP and DTLS still go.
  const socket = iceOf(a).nominated!.protocol.transport.socket;
  const send = socket.send.bind(socket);
  socket.send = (...args: unknown[]) => {
    const data = args[0] as Buffer;
    if (data[0] === 0 || data[0] === 1) {
      const done = args.find((x) => typeof x === 'function') as ((e?: unknown) => void) | undefined;
      done?.();
      return;
    }
    send(...args);
  };
  const stoppedAt = Date.now();
  t.ok(await until(() => conn.state === 'failed', timeoutMs + 3000), 'consent expired: ICE failed');
  const after = Date.now() - stoppedAt;
  // Consent runs from the last answer, which came up to one interval (+ a tick) before the drop began.
  t.ok(after >= timeoutMs - 400, `not before the timeout (${after} ms)`);
  t.equal(conn.consentFresh, false);
  t.equal(checks.counters.expired, 1);
  t.ok(
    await until(() => b.iceConnectionState === 'failed', 3000),
    `b's peer connection: ${b.iceConnectionState}`,
  );
  t.equal(checks.size, 0);
  t.same(errors, []);
});
