/**
 * media/stunConsent: the focus's own consent requests and the check of their answers.
 * - A request is byte for byte the one werift builds for the same check (USERNAME, PRIORITY, the role with the
 *   tie-breaker, MESSAGE-INTEGRITY, FINGERPRINT), for both roles and usernames of every padding; werift's parser
 *   verifies its integrity under the remote password (and not under another); each write is new bytes.
 * - An answer is taken only when it is a Binding success with the request's transaction id, authenticated under
 *   the remote password, with a valid FINGERPRINT if it has one; every malformed or forged variant is refused.
 */
import t from 'tap';
import { classes, Message, methods, parseMessage } from 'werift';
import { bindingSuccess, readBindingRequest } from '../../../src/media/stunBinding.js';
import {
  ConsentRequestWriter,
  isConsentSuccess,
  type ConsentCredentials,
} from '../../../src/media/stunConsent.js';

const creds = (over: Partial<ConsentCredentials> = {}): ConsentCredentials => ({
  localUfrag: 'locl',
  remoteUfrag: 'remo',
  remotePassword: 'remote-password-0123456789',
  controlling: false,
  tieBreaker: 0x0123456789abcdefn,
  priority: 1862270975,
  ...over,
});

const txidOf = (n: number) => Buffer.alloc(12, n);

/** What werift's `Connection.buildRequest` + `StunProtocol.request` put on the wire for the same check. */
function weriftRequest(c: ConsentCredentials, txid: Buffer): Buffer {
  const m = new Message(methods.BINDING, classes.REQUEST, txid);
  m.setAttribute('USERNAME', `${c.remoteUfrag}:${c.localUfrag}`).setAttribute('PRIORITY', c.priority);
  m.setAttribute(c.controlling ? 'ICE-CONTROLLING' : 'ICE-CONTROLLED', c.tieBreaker);
  m.addMessageIntegrity(Buffer.from(c.remotePassword, 'utf8'));
  m.addFingerprint();
  return m.bytes;
}

t.test("a request is werift's, byte for byte", async (t) => {
  const rows: [string, Partial<ConsentCredentials>][] = [
    ['controlled', {}],
    ['controlling', { controlling: true }],
    ['username of 9 bytes (3 of padding)', { localUfrag: 'abcd', remoteUfrag: 'efgh' }],
    ['username of 10 bytes', { localUfrag: 'abcd', remoteUfrag: 'efghi' }],
    ['username of 12 bytes (no padding)', { localUfrag: 'abcdef', remoteUfrag: 'ghijk' }],
    ['a tie-breaker with the top bit set', { tieBreaker: 0xfedcba9876543210n }],
    ['priority 0', { priority: 0 }],
    ['priority 2^32 − 1', { priority: 0xffffffff }],
  ];
  for (const [name, over] of rows) {
    const c = creds(over);
    const w = new ConsentRequestWriter(c);
    for (const n of [1, 0xa7]) {
      const ours = w.write(txidOf(n));
      t.same([...ours], [...weriftRequest(c, txidOf(n))], `${name}, transaction id ${n}`);
    }
  }
});

t.test('werift verifies it; our own request reader reads it', async (t) => {
  const c = creds({ controlling: true });
  const bytes = new ConsentRequestWriter(c).write(txidOf(9));
  const parsed = parseMessage(bytes, Buffer.from(c.remotePassword, 'utf8'));
  t.ok(parsed, "werift's parser: integrity verified under the remote password");
  t.equal(parsed?.getAttributeValue('USERNAME'), 'remo:locl');
  t.equal(parsed?.getAttributeValue('PRIORITY'), c.priority);
  t.equal(parsed?.getAttributeValue('ICE-CONTROLLING'), c.tieBreaker);
  t.equal(
    parseMessage(bytes, Buffer.from('another-password', 'utf8')),
    undefined,
    'not under another password',
  );
  const req = readBindingRequest(bytes);
  t.equal(req?.username, 'remo:locl');
  t.equal(req?.iceControlling, true);
  t.equal(req?.useCandidate, false, 'never USE-CANDIDATE');
});

t.test('each write is new bytes; a wrong transaction id length throws', async (t) => {
  const w = new ConsentRequestWriter(creds());
  const a = w.write(txidOf(1));
  const b = w.write(txidOf(2));
  t.not(a, b);
  t.same([...a.subarray(8, 20)], [...txidOf(1)], 'the first keeps its transaction id');
  t.throws(() => w.write(Buffer.alloc(11)), RangeError);
  t.throws(() => new ConsentRequestWriter(creds({ localUfrag: 'x'.repeat(800) })), RangeError);
});

t.test('matches: the same credentials only', async (t) => {
  const w = new ConsentRequestWriter(creds());
  t.ok(w.matches(creds()));
  for (const over of [
    { localUfrag: 'x' },
    { remoteUfrag: 'x' },
    { remotePassword: 'x' },
    { controlling: true },
    { tieBreaker: 1n },
    { priority: 5 },
  ] as Partial<ConsentCredentials>[]) {
    t.notOk(
      w.matches(creds(over)),
      JSON.stringify(over, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)),
    );
  }
});

t.test('the answer: only the authenticated success to this request', async (t) => {
  const c = creds();
  const txid = txidOf(5);
  const request = new ConsentRequestWriter(c).write(txid);
  // The remote agent signs its answer with its own password: the one our request was signed with.
  const answer = bindingSuccess(request, ['127.0.0.1', 5000], c.remotePassword)!;
  t.ok(isConsentSuccess(answer, txid, c.remotePassword), 'our own answer builder');
  const werift = new Message(methods.BINDING, classes.RESPONSE, txid);
  werift.setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', 5000]);
  werift.addMessageIntegrity(Buffer.from(c.remotePassword, 'utf8'));
  werift.addFingerprint();
  t.ok(isConsentSuccess(werift.bytes, txid, c.remotePassword), "werift's answer");
  const noFingerprint = new Message(methods.BINDING, classes.RESPONSE, txid);
  noFingerprint.setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', 5000]);
  noFingerprint.addMessageIntegrity(Buffer.from(c.remotePassword, 'utf8'));
  t.ok(isConsentSuccess(noFingerprint.bytes, txid, c.remotePassword), 'FINGERPRINT is optional');

  const refused = (name: string, data: Uint8Array, id = txid, password = c.remotePassword) => {
    t.notOk(isConsentSuccess(data, id, password), name);
  };
  refused('another transaction id', answer, txidOf(6));
  refused('another password', answer, txid, 'not-the-password');
  const flipped = Buffer.from(answer);
  flipped[27] = (flipped[27] as number) ^ 1; // inside XOR-MAPPED-ADDRESS
  refused('a byte of the body changed', flipped);
  const badFp = Buffer.from(answer);
  badFp[badFp.length - 1] = (badFp[badFp.length - 1] as number) ^ 1;
  refused('FINGERPRINT wrong', badFp);
  refused('truncated', answer.subarray(0, answer.length - 4));
  refused('shorter than a header', answer.subarray(0, 19));
  const errorClass = Buffer.from(answer);
  errorClass[1] = 0x11; // 0x0111: Binding error response
  refused('an error response', errorClass);
  refused('the request itself', request);
  const badCookie = Buffer.from(answer);
  badCookie[4] = 0;
  refused('no magic cookie', badCookie);
  const unsigned = new Message(methods.BINDING, classes.RESPONSE, txid);
  unsigned.setAttribute('XOR-MAPPED-ADDRESS', ['127.0.0.1', 5000]);
  unsigned.addFingerprint();
  refused('no MESSAGE-INTEGRITY', unsigned.bytes);
  const after = Buffer.concat([answer, Buffer.from([0x80, 0x22, 0, 0])]);
  after.writeUInt16BE(after.length - 20, 2);
  refused('an attribute after FINGERPRINT', after);
  const longer = Buffer.from(answer);
  longer.writeUInt16BE(answer.length - 20 + 4, 2);
  refused('the length field past the end', longer);
  const badAttrLen = Buffer.from(answer);
  badAttrLen.writeUInt16BE(0x0fff, 22); // XOR-MAPPED-ADDRESS's length past the end
  refused("an attribute's length past the end", badAttrLen);
  refused('a transaction id of the wrong length', answer, Buffer.alloc(11, 5));
});
