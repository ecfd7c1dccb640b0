/**
 * media/stunBinding: STUN Binding requests read and verified, success responses written.
 * - RFC 5769's test vectors: the sample request (its attributes read, MESSAGE-INTEGRITY and FINGERPRINT verified,
 *   refused under another password or with a byte changed) and the IPv4 response (verified); the
 *   XOR-MAPPED-ADDRESS of the IPv4 and IPv6 sample responses written byte for byte.
 * - Our responses read back by werift's own STUN parser with the password (integrity and fingerprint checked
 *   there), for IPv4 and IPv6.
 * - Malformed messages: not a request, wrong cookie, a length that disagrees, an attribute past the end, an
 *   attribute after FINGERPRINT, no USERNAME.
 */
import t from 'tap';
import { classes, Message, methods, parseMessage } from 'werift';
import {
  bindingSuccess,
  fingerprintValid,
  integrityValid,
  readBindingRequest,
} from '../../../src/media/stunBinding.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 §2.1
const PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';
const REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// RFC 5769 §2.2
const RESPONSE_V4 = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
const XOR_V4 = hex('00 20 00 08 00 01 a1 47 e1 12 a6 43');
// RFC 5769 §2.3
const XOR_V6 = hex(`00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9`);

t.test('RFC 5769: the sample request', async (t) => {
  const req = readBindingRequest(REQUEST);
  t.ok(req, 'read');
  t.equal(req?.username, 'evtj:h6vY');
  t.equal(req?.iceControlled, true);
  t.equal(req?.iceControlling, false);
  t.equal(req?.useCandidate, false);
  t.equal(req?.integrityAt, 76);
  t.equal(req?.fingerprintAt, 100);
  t.ok(integrityValid(REQUEST, 76, PASSWORD), 'MESSAGE-INTEGRITY verifies');
  t.ok(fingerprintValid(REQUEST, 100), 'FINGERPRINT verifies');
  t.notOk(integrityValid(REQUEST, 76, 'VOkJxbRl1RmTxUk/WvJxBu'), 'another password: refused');
  const changed = Buffer.from(REQUEST);
  changed[50] = (changed[50] ?? 0) ^ 1; // inside PRIORITY
  t.notOk(integrityValid(changed, 76, PASSWORD), 'a byte changed: integrity refused');
  t.notOk(fingerprintValid(changed, 100), 'and the fingerprint');
  t.notOk(fingerprintValid(REQUEST, 76), 'FINGERPRINT must be the last attribute');
  t.notOk(integrityValid(REQUEST, 100, PASSWORD), 'MESSAGE-INTEGRITY read where it is not');
});

t.test('RFC 5769: the IPv4 sample response verifies', async (t) => {
  t.ok(integrityValid(RESPONSE_V4, 48, PASSWORD));
  t.ok(fingerprintValid(RESPONSE_V4, 72));
});

t.test('responses: the address bytes of the RFC samples, and werift reads them', async (t) => {
  const rows: { name: string; addr: [string, number]; xor: Buffer }[] = [
    { name: 'IPv4', addr: ['192.0.2.1', 32853], xor: XOR_V4 },
    { name: 'IPv6', addr: ['2001:db8:1234:5678:11:2233:4455:6677', 32853], xor: XOR_V6 },
  ];
  for (const row of rows) {
    const out = bindingSuccess(REQUEST, row.addr, PASSWORD);
    t.ok(out, `${row.name}: written`);
    if (out === undefined) {
      continue;
    }
    t.same(out.subarray(20, 20 + row.xor.length), row.xor, `${row.name}: XOR-MAPPED-ADDRESS as RFC 5769`);
    t.same(out.subarray(8, 20), REQUEST.subarray(8, 20), `${row.name}: the transaction id`);
    const parsed = parseMessage(out, Buffer.from(PASSWORD));
    t.ok(parsed, `${row.name}: werift's parser accepts it with the password (integrity and fingerprint)`);
    t.equal(parsed?.messageClass, 0x100, `${row.name}: a success response`);
    t.same(parsed?.getAttributeValue('XOR-MAPPED-ADDRESS'), row.addr, `${row.name}: the address`);
    t.equal(parseMessage(out, Buffer.from('another')), undefined, `${row.name}: not under another password`);
  }
  t.equal(bindingSuccess(REQUEST, ['example.org', 1], PASSWORD), undefined, 'a name: not written');
  t.equal(bindingSuccess(REQUEST, ['1.2.3', 1], PASSWORD), undefined, 'not an address: not written');
});

t.test('a request built by werift reads as built', async (t) => {
  const m = new Message(methods.BINDING, classes.REQUEST)
    .setAttribute('USERNAME', 'abcd:efgh')
    .setAttribute('PRIORITY', 1)
    .setAttribute('ICE-CONTROLLING', BigInt(5))
    .setAttribute('USE-CANDIDATE', null)
    .addMessageIntegrity(Buffer.from('pw'))
    .addFingerprint();
  const bytes = m.bytes;
  const req = readBindingRequest(bytes);
  t.equal(req?.username, 'abcd:efgh');
  t.equal(req?.iceControlling, true);
  t.equal(req?.useCandidate, true);
  t.ok(req !== undefined && integrityValid(bytes, req.integrityAt, 'pw'));
  t.ok(req !== undefined && fingerprintValid(bytes, req.fingerprintAt));
});

t.test('malformed or other messages: undefined', async (t) => {
  const with_ = (f: (b: Buffer) => void) => {
    const b = Buffer.from(REQUEST);
    f(b);
    return b;
  };
  const rows: { name: string; data: Buffer }[] = [
    { name: 'shorter than a header', data: REQUEST.subarray(0, 19) },
    { name: 'a response', data: RESPONSE_V4 },
    { name: 'wrong magic cookie', data: with_((b) => (b[4] = 0)) },
    { name: 'length field too long', data: with_((b) => b.writeUInt16BE(0x5c, 2)) },
    { name: 'cut short', data: REQUEST.subarray(0, 100) },
    {
      name: 'an attribute past the end',
      data: with_((b) => b.writeUInt16BE(0x20, 102)), // FINGERPRINT's length
    },
    {
      name: 'an attribute after FINGERPRINT',
      data: (() => {
        const b = Buffer.concat([REQUEST, hex('00 24 00 04 00 00 00 01')]);
        b.writeUInt16BE(0x60, 2);
        return b;
      })(),
    },
    {
      name: 'no USERNAME',
      data: new Message(methods.BINDING, classes.REQUEST)
        .setAttribute('PRIORITY', 1)
        .addMessageIntegrity(Buffer.from('pw')).bytes,
    },
    { name: 'DTLS', data: hex('16 fe fd 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00') },
  ];
  for (const row of rows) {
    t.equal(readBindingRequest(row.data), undefined, row.name);
  }
});
