// The to-device call exchange (client/callExchange.ts) with a fake homeserver (fetch) and a fake peer: what it
// sends (§4.1, §4.2, the seq rule of §4.4), how it applies the focus's events, and every breach of §4.4/§4.5
// it records.
import t from 'tap';
import { CallExchange, type ExchangeRecord } from '../../../client/callExchange.js';
import { MatrixApi, MatrixHttp } from '../../../client/matrix.js';
import { METADATA_KEY } from '../../../client/metadata.js';
import { fakeFetch, type Responder } from './fakeFetch.js';
import { FakePeer, until } from './fakePeer.js';

const FOCUS = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
const CONF = '1700000000000aBcD';
const ok: Responder = () => ({ status: 200, body: {} });

function setup(respond: Responder = ok) {
  const f = fakeFetch(respond);
  const peer = new FakePeer();
  const record: ExchangeRecord = {
    received: [],
    sent: [],
    violations: [],
    errors: [],
    hangups: [],
    negotiateAnswers: [],
  };
  let notified = 0;
  const ex = new CallExchange({
    api: new MatrixApi(new MatrixHttp('http://127.0.0.1:1', 'tok', f.fetch)),
    peer,
    userId: '@alice:example.org',
    deviceId: 'ALICEDEV',
    sessionId: 's-alice',
    candidateBatchMs: 20,
    seq: true,
    record,
    notify: () => notified++,
  });
  /** The to-device PUTs, as (type, content for the focus device). */
  const puts = () =>
    f.seen
      .filter((r) => r.url.pathname.includes('/sendToDevice/'))
      .map((r) => ({
        type: decodeURIComponent(r.url.pathname.split('/')[5]!),
        content: (r.body as { messages: Record<string, Record<string, Record<string, unknown>>> }).messages[
          FOCUS.user_id
        ]![FOCUS.device_id]!,
      }));
  return { f, peer, record, ex, puts, notified: () => notified };
}

/** What a conforming focus echoes for `callId` (§4.4). */
const focusBase = (callId: string) => ({
  call_id: callId,
  conf_id: CONF,
  party_id: 'SFUDEV1',
  version: '1',
  device_id: 'SFUDEV1',
  dest_session_id: 's-alice',
  sender_session_id: 'sfu',
});

t.test('invite, trickled candidates, answer, select_answer: contents, order and seq', async (t) => {
  const { peer, record, ex, puts } = setup();
  const call = await ex.invite({
    focus: FOCUS,
    confId: CONF,
    roomId: '!r:example.org',
    offerOpts: { audio: true },
  });
  t.same(peer.offers, [{ audio: true }]);
  t.match(call.callId, /^\d{13}[A-Za-z0-9_-]{8}$/, 'matrix-js-sdk style call id');
  peer.gather({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 });
  peer.gather({ candidate: 'candidate:2 1 udp 1 127.0.0.1 5002 typ host', sdpMid: '0' });
  peer.gather({ candidate: '' });
  await until(() => puts().length === 2, 'the candidates');
  const [invite, cands] = puts();
  t.same(invite, {
    type: 'm.call.invite',
    content: {
      call_id: call.callId,
      conf_id: CONF,
      party_id: 'ALICEDEV',
      version: '1',
      device_id: 'ALICEDEV',
      sender_session_id: 's-alice',
      dest_session_id: 'sfu',
      seq: 0,
      room_id: '!r:example.org',
      invitee: FOCUS.user_id,
      lifetime: 60_000,
      offer: { type: 'offer', sdp: call.offerSdp },
      [METADATA_KEY]: {
        s1: {
          user_id: '@alice:example.org',
          device_id: 'ALICEDEV',
          purpose: 'm.usermedia',
          audio_muted: false,
          video_muted: false,
          tracks: { a1: { kind: 'audio' } },
        },
      },
    },
  });
  t.match(cands, {
    type: 'm.call.candidates',
    content: {
      seq: 1,
      candidates: [
        { candidate: /5000/, sdpMid: '0', sdpMLineIndex: 0 },
        { candidate: /5002/, sdpMid: '0' },
        { candidate: '' },
      ],
    },
  });
  t.equal((cands!.content['candidates'] as unknown[]).length, 3, 'one batch, ending with ""');

  ex.receive({
    type: 'm.call.answer',
    sender: FOCUS.user_id,
    content: { ...focusBase(call.callId), answer: { type: 'answer', sdp: 'v=0\r\nA' }, [METADATA_KEY]: {} },
  });
  ex.receive({
    type: 'm.call.candidates',
    sender: FOCUS.user_id,
    content: {
      ...focusBase(call.callId),
      candidates: [
        { candidate: 'candidate:9 1 udp 1 127.0.0.1 40000 typ host', sdpMid: '0' },
        { candidate: '' },
      ],
    },
  });
  await until(() => puts().length === 3 && peer.candidates.length === 2, 'select_answer and candidates');
  t.same(peer.remote, [{ type: 'answer', sdp: 'v=0\r\nA' }], 'the answer is applied');
  t.same(
    peer.candidates.map((c) => c.candidate.length > 0),
    [true, false],
  );
  t.match(puts()[2], { type: 'm.call.select_answer', content: { seq: 2, selected_party_id: 'SFUDEV1' } });
  t.ok(call.answer !== undefined && call.remoteCandidatesEnded);
  t.same(record.violations, []);
  t.same(record.errors, []);
  t.equal(record.sent.length, 3, 'sent records what the homeserver accepted');

  await ex.hangup('user_hangup');
  t.match(puts()[3], { type: 'm.call.hangup', content: { seq: 3, reason: 'user_hangup' } });
  await ex.close();
});

t.test('every breach of what the focus must send is a violation', async (t) => {
  const { record, ex } = setup();
  const call = await ex.invite({ focus: FOCUS, confId: CONF, offerOpts: {} });
  const base = focusBase(call.callId);
  const send = (type: string, content: Record<string, unknown>, sender = FOCUS.user_id) => {
    ex.receive({ type, sender, content });
  };
  send('m.call.candidates', { ...base, candidates: [{ candidate: '' }] });
  send('m.call.answer', { ...base, seq: 0, dest_session_id: 'other', answer: { type: 'answer', sdp: 'x' } });
  send('m.call.answer', { ...base, answer: { type: 'offer', sdp: 'x' }, [METADATA_KEY]: {} });
  send('m.call.candidates', { ...base, candidates: [] });
  send('m.call.candidates', { ...base, candidates: [{ candidate: 'candidate:late' }, { nope: 1 }] });
  send('m.call.hangup', { ...base, reason: 'bored' });
  send('m.call.hangup', { ...base, reason: 'unknown_error' });
  send('m.call.negotiate', { ...base, description: { type: 'answer', sdp: 'y' }, [METADATA_KEY]: {} });
  send('m.call.reject', { ...base });
  send('m.call.answer', { ...base, call_id: 'not-ours' });
  send('m.call.answer', { ...base }, '@mallory:example.org');
  ex.receive({ type: 'm.call.answer', content: {} });
  await until(() => record.violations.length >= 18, 'the violations');
  await ex.close();
  const v = record.violations.join('\n');
  for (const want of [
    /candidates before the answer/,
    /carries seq 0/,
    /dest_session_id is "other", expected "s-alice"/,
    /org\.matrix\.msc3077\.sdp_stream_metadata missing/,
    /answer #2 to 1 invite/,
    /answer is not \{type: "answer", sdp\}/,
    /candidates is not a non-empty array/,
    /candidate after the end-of-candidates marker/,
    /bad candidate \{"nope":1\}/,
    /reason "bored" is not one of/,
    /unknown_error without org\.matrix\.msc3898\.error/,
    /second hangup/,
    /answer after the focus hung up/,
    /negotiate answer without a to-device offer of ours/,
    /m\.call\.reject .*unexpected event type/,
    /m\.call\.answer from the focus for unknown call_id "not-ours"/,
    /sender @mallory:example\.org is not the focus/,
    /malformed to-device event/,
  ]) {
    t.match(v, want);
  }
  t.equal(record.hangups.length, 2);
});

t.test('negotiate: the offer goes out, the answer is applied (or handed to onNegotiateAnswer)', async (t) => {
  const { peer, record, ex, puts } = setup();
  const call = await ex.invite({ focus: FOCUS, confId: CONF, offerOpts: {}, selectAnswer: false });
  ex.receive({
    type: 'm.call.answer',
    sender: FOCUS.user_id,
    content: { ...focusBase(call.callId), answer: { type: 'answer', sdp: 'a1' }, [METADATA_KEY]: {} },
  });
  await ex.negotiate('v=0\r\nm=audio 9 X 0\r\na=sendonly\r\na=msid:s2 t2\r\n');
  t.match(puts().at(-1), {
    type: 'm.call.negotiate',
    content: {
      seq: 1,
      description: { type: 'offer' },
      [METADATA_KEY]: { s2: { tracks: { t2: { kind: 'audio' } } } },
    },
  });
  ex.receive({
    type: 'm.call.negotiate',
    sender: FOCUS.user_id,
    content: { ...focusBase(call.callId), description: { type: 'answer', sdp: 'a2' }, [METADATA_KEY]: {} },
  });
  await until(() => ex.appliedNegotiations === 1, 'the negotiate answer');
  t.same(
    peer.remote.map((d) => d.sdp),
    ['a1', 'a2'],
  );
  const handed: unknown[] = [];
  ex.onNegotiateAnswer = (c) => {
    handed.push(c['description']);
  };
  await ex.negotiate('v=0\r\n');
  ex.receive({
    type: 'm.call.negotiate',
    sender: FOCUS.user_id,
    content: { ...focusBase(call.callId), description: { type: 'answer', sdp: 'a3' }, [METADATA_KEY]: {} },
  });
  await until(() => ex.appliedNegotiations === 2, 'the second answer');
  t.same(handed, [{ type: 'answer', sdp: 'a3' }]);
  t.equal(peer.remote.length, 2, 'not applied by the exchange');
  t.same(record.violations, []);
  t.equal(puts().filter((p) => p.type === 'm.call.select_answer').length, 0, 'selectAnswer: false');
  await ex.close();
});

t.test('a refused PUT rejects that send only; the FIFO goes on', async (t) => {
  let n = 0;
  const { ex, puts, record } = setup(() =>
    ++n === 1 ? { status: 500, body: { errcode: 'M_UNKNOWN' } } : { status: 200, body: {} },
  );
  await t.rejects(ex.invite({ focus: FOCUS, confId: CONF, offerOpts: {} }), /→ 500/);
  await ex.hangup('user_hangup');
  t.equal(puts().length, 2, 'both were tried');
  t.same(
    record.sent.map((s) => s.type),
    ['m.call.hangup'],
    'only the accepted one is recorded as sent',
  );
  await ex.close();
});

t.test('after close, gathered candidates are dropped', async (t) => {
  const { peer, ex, puts } = setup();
  await ex.invite({ focus: FOCUS, confId: CONF, offerOpts: {} });
  peer.gather({ candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host' });
  await ex.close();
  peer.gather({ candidate: '' });
  await new Promise((r) => setTimeout(r, 50));
  t.same(
    puts().map((p) => p.type),
    ['m.call.invite'],
  );
});
