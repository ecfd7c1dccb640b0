/**
 * ToDeviceSender against the strict test homeserver (protocol.md §2.5): one FIFO per destination under retries,
 * one txnId per message reused on retry, 429, giving up, independent destinations, close().
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import t from 'tap';
import { HomeserverClient } from '../../src/appservice/homeserverClient.js';
import {
  ToDeviceMetrics,
  ToDeviceSender,
  type ToDeviceDestination,
  type ToDeviceSenderOptions,
} from '../../src/appservice/toDeviceSender.js';
import { startTestHomeserver } from '../../harness/homeserver/index.js';
import { refClock } from '../helpers/refClock.js';
import { AS_TOKEN, testRegistration, type Teardown } from '../../harness/sfu.js';

const clock = refClock;

const ALICE: ToDeviceDestination = { userId: '@alice:example.org', deviceId: 'ALICEDEV' };
const BOB: ToDeviceDestination = { userId: '@bob:example.org', deviceId: 'BOBDEV' };
const SEND_PREFIX = '/_matrix/client/v3/sendToDevice/';
const ANSWER_PATH = /^\/_matrix\/client\/v3\/sendToDevice\/m\.call\.answer\//;

async function setup(
  t: Teardown,
  opts: Partial<Omit<ToDeviceSenderOptions, 'client' | 'clock' | 'metrics'>> = {},
) {
  const hs = await startTestHomeserver({ serverName: 'example.org', logger: false });
  t.teardown(() => hs.close());
  const reg = testRegistration({ url: 'http://127.0.0.1:1' });
  hs.addAppservice({ ...reg, url: '', namespaces: { users: reg.namespaces.users } });
  hs.createUser('alice', { deviceId: ALICE.deviceId });
  hs.createUser('bob', { deviceId: BOB.deviceId });
  const client = new HomeserverClient({
    baseUrl: hs.url,
    asToken: AS_TOKEN,
    userId: '@sfu:example.org',
    timeoutMs: 5000,
    clock,
    log: pino({ level: 'silent' }),
    backoffMs: [50, 100, 200],
  });
  const registry = new Registry();
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  const dropped: [ToDeviceDestination, string, Record<string, unknown>][] = [];
  const sender = new ToDeviceSender({
    client,
    clock,
    log,
    metrics: new ToDeviceMetrics(registry),
    onDropped: (dest, type, content) => {
      dropped.push([dest, type, content]);
    },
    ...opts,
  });
  const count = async (type: string, result: string): Promise<number> => {
    const m = await registry.getSingleMetric('sfu_to_device_sent_total')!.get();
    return m.values.find((v) => v.labels['type'] === type && v.labels['result'] === result)?.value ?? 0;
  };
  /** Paths of the sendToDevice requests, in order. */
  const sends = () => hs.requests.filter((r) => r.path.startsWith(SEND_PREFIX)).map((r) => r.path);
  return { hs, sender, dropped, logs, count, sends };
}

const answer = { call_id: 'c1', answer: { type: 'answer', sdp: 'v=0\r\n' } };
const candidates = { call_id: 'c1', candidates: [{ candidate: '', sdpMid: '0', sdpMLineIndex: 0 }] };

t.test('delivers in order, exactly once, as the focus user, with the content as given', async (t) => {
  const { hs, sender, count, sends, dropped } = await setup(t);
  const results = await Promise.all([
    sender.send(ALICE, 'm.call.answer', answer),
    sender.send(ALICE, 'm.call.candidates', candidates),
  ]);
  t.same(results, ['sent', 'sent']);
  t.same(hs.toDeviceInbox(ALICE.userId, ALICE.deviceId), [
    { type: 'm.call.answer', sender: '@sfu:example.org', content: answer },
    { type: 'm.call.candidates', sender: '@sfu:example.org', content: candidates },
  ]);
  t.same(hs.toDeviceInbox(BOB.userId, BOB.deviceId), []);
  const paths = sends();
  t.equal(paths.length, 2);
  t.match(paths[0], /\/m\.call\.answer\/sfu\.\d+\.1$/);
  t.match(paths[1], /\/m\.call\.candidates\/sfu\.\d+\.2$/);
  const req = hs.requests.find((r) => r.path.startsWith(SEND_PREFIX))!;
  t.equal(req.query['user_id'], '@sfu:example.org');
  t.same(req.body, { messages: { [ALICE.userId]: { [ALICE.deviceId]: answer } } });
  t.equal(await count('m.call.answer', 'ok'), 1);
  t.equal(await count('m.call.candidates', 'ok'), 1);
  t.equal(sender.pending, 0);
  t.same(dropped, []);
  t.same(hs.rejections, []);
});

t.test('order per destination survives retries; the txnId is reused on every retry', async (t) => {
  const { hs, sender, sends } = await setup(t);
  hs.failNext(
    { method: 'PUT', path: ANSWER_PATH },
    { status: 500, body: { errcode: 'M_UNKNOWN', error: 'boom' } },
    2,
  );
  const [a, c] = await Promise.all([
    sender.send(ALICE, 'm.call.answer', answer),
    sender.send(ALICE, 'm.call.candidates', candidates),
  ]);
  t.same([a, c], ['sent', 'sent']);
  t.same(
    hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).map((m) => m.type),
    ['m.call.answer', 'm.call.candidates'],
    'the answer arrives first, once',
  );
  const paths = sends();
  t.equal(paths.length, 4, 'three answer attempts, one candidates request');
  const answerPaths = paths.filter((p) => ANSWER_PATH.test(p));
  t.equal(answerPaths.length, 3);
  t.equal(new Set(answerPaths).size, 1, 'same txnId on every retry');
  t.match(paths[3], /\/m\.call\.candidates\//, 'candidates only after the answer got through');
  t.not(paths[3]!.split('/').at(-1), answerPaths[0]!.split('/').at(-1), 'each message has its own txnId');
  t.same(hs.rejections, []);
});

t.test('429 waits retry_after_ms', async (t) => {
  const { hs, sender, sends, count } = await setup(t);
  hs.failNext(
    { method: 'PUT', path: ANSWER_PATH },
    { status: 429, body: { errcode: 'M_LIMIT_EXCEEDED', error: 'slow down', retry_after_ms: 300 } },
  );
  const start = Date.now();
  t.equal(await sender.send(ALICE, 'm.call.answer', answer), 'sent');
  const elapsed = Date.now() - start;
  t.ok(elapsed >= 290, `waited retry_after_ms (${elapsed} ms)`);
  const paths = sends();
  t.equal(paths.length, 2);
  t.equal(paths[0], paths[1], 'same txnId');
  t.equal(hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).length, 1);
  t.equal(await count('m.call.answer', 'ok'), 1);
  t.same(hs.rejections, []);
});

t.test('giving up: dropped, counted, logged once, reported; the queue goes on', async (t) => {
  const { hs, sender, dropped, logs, count, sends } = await setup(t, { giveUpMs: 500 });
  hs.failNext(
    { method: 'PUT', path: ANSWER_PATH },
    { status: 502, body: { errcode: 'M_UNKNOWN', error: 'down' } },
    100,
  );
  const start = Date.now();
  const [a, c] = await Promise.all([
    sender.send(ALICE, 'm.call.answer', answer),
    sender.send(ALICE, 'm.call.candidates', candidates),
  ]);
  const elapsed = Date.now() - start;
  t.equal(a, 'dropped');
  t.equal(c, 'sent', 'the next message of the destination still goes out');
  t.ok(elapsed < 2000, `gave up in time (${elapsed} ms)`);
  t.same(dropped, [[ALICE, 'm.call.answer', answer]], 'onDropped called once with the message');
  t.equal(await count('m.call.answer', 'dropped'), 1);
  t.equal(await count('m.call.answer', 'ok'), 0);
  t.equal(await count('m.call.candidates', 'ok'), 1);
  const warnings = logs.filter((l) => l['msg'] === 'to-device message dropped');
  t.equal(warnings.length, 1, 'logged once');
  t.match(warnings[0], { level: 40, type: 'm.call.answer', result: 'dropped' });
  const answerAttempts = sends().filter((p) => ANSWER_PATH.test(p));
  t.ok(answerAttempts.length >= 2, `retried before giving up (${answerAttempts.length} attempts)`);
  t.equal(new Set(answerAttempts).size, 1, 'one txnId');
  t.same(
    hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).map((m) => m.type),
    ['m.call.candidates'],
  );
  t.same(hs.rejections, []);
});

t.test('a non-retryable 4xx counts as error and is reported as dropped', async (t) => {
  const { hs, sender, dropped, count, sends } = await setup(t);
  hs.failNext(
    { method: 'PUT', path: ANSWER_PATH },
    { status: 400, body: { errcode: 'M_BAD_JSON', error: 'no' } },
  );
  t.equal(await sender.send(ALICE, 'm.call.answer', answer), 'dropped');
  t.equal(sends().length, 1, 'not retried');
  t.equal(await count('m.call.answer', 'error'), 1);
  t.equal(await count('m.call.answer', 'dropped'), 0);
  t.same(dropped, [[ALICE, 'm.call.answer', answer]]);
  t.same(hs.rejections, []);
});

t.test('destinations are independent: one blocked by failures does not delay another', async (t) => {
  const { hs, sender, dropped } = await setup(t, { giveUpMs: 1500 });
  // The first message (txn counter 1) is Alice's answer: it fails until given up.
  hs.failNext(
    { method: 'PUT', path: /\/sendToDevice\/m\.call\.answer\/sfu\.\d+\.1$/ },
    { status: 503, body: { errcode: 'M_UNKNOWN', error: 'unavailable' } },
    1000,
  );
  let aliceAnswer: string | undefined;
  let aliceCandidates: string | undefined;
  const a = sender.send(ALICE, 'm.call.answer', answer).then((r) => (aliceAnswer = r));
  const a2 = sender.send(ALICE, 'm.call.candidates', candidates).then((r) => (aliceCandidates = r));
  const start = Date.now();
  t.equal(await sender.send(BOB, 'm.call.answer', answer), 'sent');
  const bobMs = Date.now() - start;
  t.ok(bobMs < 1000, `Bob's message was not held up (${bobMs} ms)`);
  t.equal(aliceAnswer, undefined, "Alice's answer is still being retried");
  t.equal(aliceCandidates, undefined, "Alice's candidates wait behind her answer");
  t.equal(hs.toDeviceInbox(BOB.userId, BOB.deviceId).length, 1);
  await Promise.all([a, a2]);
  t.equal(aliceAnswer, 'dropped');
  t.equal(aliceCandidates, 'sent');
  t.same(
    dropped.map(([d, type]) => [d.userId, type]),
    [[ALICE.userId, 'm.call.answer']],
  );
  t.same(hs.rejections, []);
});

t.test('close() waits for queued messages', async (t) => {
  const { hs, sender, dropped } = await setup(t);
  hs.failNext(
    { method: 'PUT', path: ANSWER_PATH },
    { status: 500, body: { errcode: 'M_UNKNOWN', error: 'x' } },
    1,
  );
  const results = Promise.all([
    sender.send(ALICE, 'm.call.answer', answer),
    sender.send(ALICE, 'm.call.candidates', candidates),
    sender.send(BOB, 'm.call.hangup', { call_id: 'c2', reason: 'user_hangup' }),
  ]);
  await sender.close();
  t.same(await results, ['sent', 'sent', 'sent']);
  t.equal(sender.pending, 0);
  t.same(dropped, []);
  t.equal(hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).length, 2);
  t.equal(hs.toDeviceInbox(BOB.userId, BOB.deviceId).length, 1);
  t.same(hs.rejections, []);
});

t.test('close() is bounded: what is left is dropped, counted and reported; later sends too', async (t) => {
  const { hs, sender, dropped, logs, count } = await setup(t, { giveUpMs: 1000, closeTimeoutMs: 300 });
  hs.failNext(
    { method: 'PUT', path: /^\/_matrix\/client\/v3\/sendToDevice\// },
    { status: 500, body: { errcode: 'M_UNKNOWN', error: 'down' } },
    1000,
  );
  const results = Promise.all([
    sender.send(ALICE, 'm.call.answer', answer),
    sender.send(ALICE, 'm.call.candidates', candidates),
    sender.send(BOB, 'm.call.answer', answer),
  ]);
  const start = Date.now();
  await sender.close();
  const elapsed = Date.now() - start;
  t.ok(elapsed >= 250 && elapsed < 900, `close waited about closeTimeoutMs (${elapsed} ms)`);
  t.same(await results, ['dropped', 'dropped', 'dropped']);
  t.equal(sender.pending, 0);
  t.equal(await count('m.call.answer', 'dropped'), 2);
  t.equal(await count('m.call.candidates', 'dropped'), 1);
  t.equal(dropped.length, 3, 'every message reported');
  t.match(
    logs.filter((l) => l['msg'] === 'to-device messages dropped at shutdown'),
    [{ level: 40, count: 3 }],
    'one summary line',
  );

  t.equal(await sender.send(BOB, 'm.call.hangup', {}), 'dropped', 'a send after close is dropped');
  t.equal(await count('m.call.hangup', 'dropped'), 1);
  t.equal(dropped.length, 4);
  await sender.close();
  t.equal(hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).length, 0);
  t.same(hs.rejections, []);
});

t.test(
  'a destination that does not drain keeps at most maxQueuedPerDestination; the rest dropped, logged once',
  async (t) => {
    const { hs, sender, dropped, logs, count } = await setup(t, { maxQueuedPerDestination: 3 });
    // Alice's first message fails twice (backoff 50, 100 ms) while six more are queued behind it.
    hs.failNext(
      { method: 'PUT', path: ANSWER_PATH },
      { status: 500, body: { errcode: 'M_UNKNOWN', error: 'boom' } },
      2,
    );
    const all = [
      sender.send(ALICE, 'm.call.answer', answer),
      ...Array.from({ length: 6 }, (_, i) =>
        sender.send(ALICE, 'm.call.candidates', { ...candidates, n: i }),
      ),
      sender.send(BOB, 'm.call.answer', answer),
    ];
    const results = await Promise.all(all);
    t.same(
      results,
      ['sent', 'sent', 'sent', 'dropped', 'dropped', 'dropped', 'dropped', 'sent'],
      'the answer and the first two candidates kept (3 waiting), the newer four dropped; Bob unaffected',
    );
    t.same(
      hs.toDeviceInbox(ALICE.userId, ALICE.deviceId).map((m) => [m.type, (m.content as { n?: number }).n]),
      [
        ['m.call.answer', undefined],
        ['m.call.candidates', 0],
        ['m.call.candidates', 1],
      ],
      'what was kept arrives in order',
    );
    t.equal(dropped.length, 4, 'each drop reported');
    t.equal(await count('m.call.candidates', 'dropped'), 4, 'and counted');
    const lines = logs.filter((l) => l['msg'] === 'to-device message dropped');
    t.equal(lines.length, 1, 'logged once for the destination');
    t.match(lines[0]?.['err'], /queue full \(3 waiting for this device\)/);
    // The queue drained: it takes messages again.
    t.equal(
      await sender.send(ALICE, 'm.call.hangup', { call_id: 'c1' }),
      'sent',
      'an empty queue takes messages again',
    );
  },
);
