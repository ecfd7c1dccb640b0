import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger, scrubSdp, scrubUrl } from '../../src/observability/logger.js';

function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, log: createLogger('debug', dest) };
}

t.test('tokens and passwords are redacted by path', async (t) => {
  const { lines, log } = capture();
  log.info(
    { as_token: 'AS-SECRET', reg: { hs_token: 'HS-SECRET' }, headers: { authorization: 'Bearer X-SECRET' } },
    'x',
  );
  log.child({ component: 'c' }).warn({ body: { password: 'PW-SECRET', access_token: 'AT-SECRET' } }, 'y');
  const out = lines.join('');
  for (const secret of ['AS-SECRET', 'HS-SECRET', 'X-SECRET', 'PW-SECRET', 'AT-SECRET']) {
    t.notMatch(out, secret, secret);
  }
  t.match(out, /\[redacted\]/);
});

t.test('ICE passwords inside SDP are redacted wherever they appear', async (t) => {
  const { lines, log } = capture();
  const sdp =
    'v=0\r\na=ice-ufrag:abcd\r\na=ice-pwd:SuperSecretIcePassword1234\r\na=fingerprint:sha-256 AA\r\n';
  log.debug({ offer: { type: 'offer', sdp }, list: [sdp] }, 'negotiating');
  const out = lines.join('');
  t.notMatch(out, 'SuperSecretIcePassword1234');
  t.match(out, 'a=ice-ufrag:abcd', 'the rest of the SDP stays');
  t.equal(scrubSdp(sdp), sdp.replace('SuperSecretIcePassword1234', '[redacted]'));
});

t.test('access_token query parameters are scrubbed from URLs', async (t) => {
  t.equal(
    scrubUrl('/_matrix/app/v1/transactions/1?access_token=abc&x=1'),
    '/_matrix/app/v1/transactions/1?access_token=[redacted]&x=1',
  );
  t.equal(scrubUrl('/x?a=1&access_token=abc'), '/x?a=1&access_token=[redacted]');
  t.equal(scrubUrl('/x'), '/x');
});
