// The client's reading of focus data-channel frames (client/dc/read.ts, protocol.md §5), checked against the
// project's golden DC fixtures (test/fixtures/protocol/dc/valid, the frames the SFU sends) and table rows of
// frames a focus must never send to a client.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { readFocusFrame } from '../../../client/dc/read.js';

const DIR = new URL('../../fixtures/protocol/dc/valid/', import.meta.url);
/** Server frames that only a link (§8, focus ↔ focus) carries: a focus never sends them to a client. */
const LINK_ONLY = new Set(['alive', 'publish', 'subscribe']);

interface Fixture {
  dialect: 'A' | 'B';
  from: 'client' | 'server';
  frame: unknown;
  message: { kind: string } & Record<string, unknown>;
}

t.test('every server frame of the golden fixtures reads as the same message, in its dialect', async (t) => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  let read = 0;
  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Fixture;
    if (fx.from !== 'server') {
      continue;
    }
    const r = readFocusFrame(typeof fx.frame === 'string' ? fx.frame : JSON.stringify(fx.frame));
    if (LINK_ONLY.has(fx.message.kind)) {
      t.match(
        r,
        { ok: false, violation: /not one the focus sends/ },
        `${file}: link-only, refused by a client`,
      );
      continue;
    }
    read++;
    t.same(r, { ok: true, dialect: fx.dialect, message: fx.message }, file);
  }
  t.ok(read >= 15, `${read} server fixtures read`);
});

t.test('frames a focus must not send are violations, never exceptions', async (t) => {
  const bad: [string, unknown, RegExp][] = [
    ['not JSON', '{"op":', /not JSON/],
    ['not an object', '[1,2]', /not an object/],
    ['neither dialect', { kind: 'ack' }, /neither/],
    ['B content not an object', { type: 'm.call.ping', content: [] }, /neither/],
    ['unknown op', { op: 'subscribe', start: [] }, /not one the focus sends/],
    ['unknown type', { type: 'm.call.track_subscription', content: {} }, /not one the focus sends/],
    ['id of 65 chars', { op: 'ack', id: 'x'.repeat(65) }, /bad id/],
    ['empty id', { op: 'ack', id: '' }, /bad id/],
    ['ack without id', { op: 'ack' }, /ack without id/],
    ['offer without metadata (§6)', { op: 'offer', id: 'sfu-1', sdp: 'v=0' }, /offer without metadata/],
    ['offer without sdp', { op: 'offer', metadata: {} }, /without sdp/],
    ['metadata not an object', { op: 'metadata', metadata: [] }, /metadata without an object/],
    ['unknown errcode', { op: 'error', errcode: 'M_NOPE', error: 'x' }, /known errcode/],
    ['error without text', { op: 'error', errcode: 'M_UNKNOWN' }, /known errcode/],
    [
      'failed entries malformed',
      { op: 'error', errcode: 'M_NOT_FOUND', error: 'x', failed: [{ stream_id: 's' }] },
      /failed is not/,
    ],
    [
      'B error with an id',
      { type: 'org.matrix.msc3898.error', content: { id: '1', errcode: 'M_UNKNOWN', error: 'x' } },
      /carries an id/,
    ],
    [
      'B negotiate offer without metadata',
      { type: 'm.call.negotiate', content: { description: { type: 'offer', sdp: 'v=0' } } },
      /without sdp_stream_metadata/,
    ],
    [
      'B negotiate description type rollback',
      { type: 'm.call.negotiate', content: { description: { type: 'rollback', sdp: '' } } },
      /not \{type: offer\|answer, sdp\}/,
    ],
    [
      'active_speaker without stream',
      { op: 'active_speaker', user_id: '@a:x', device_id: 'D' },
      /active_speaker/,
    ],
  ];
  for (const [name, frame, why] of bad) {
    const r = readFocusFrame(typeof frame === 'string' ? frame : JSON.stringify(frame));
    t.match(r, { ok: false, violation: why }, name);
  }
});
