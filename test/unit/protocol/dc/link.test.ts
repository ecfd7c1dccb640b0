// Link frames between foci (protocol.md §8.1–§8.5, §8.8): the golden fixtures of
// test/fixtures/protocol/dc/link/{valid,invalid}/, what the session parser and serializer do with link fields
// (a client can neither announce nor receive them), and table rows for what JSON files cannot hold.
//
// valid/*.json:   { note?, frame, message, serialized? } — frame parses to message; message serializes back
//                 to `serialized` if given (a normalizing case), else to frame.
// invalid/*.json: { note?, frame, errcode, dialect?, id? } — a string frame is sent as-is, any other value is
//                 stringified; the result carries exactly that errcode, dialect and id.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { parseStreamMetadata } from '../../../../src/protocol/dc/metadata.js';
import { parseLinkFrame } from '../../../../src/protocol/dc/linkParse.js';
import { serializeLinkFrame } from '../../../../src/protocol/dc/linkSerialize.js';
import { LINK_OPS, type LinkMessage, type LinkParseResult } from '../../../../src/protocol/dc/linkTypes.js';
import { parseDcFrame } from '../../../../src/protocol/dc/parse.js';
import { serializeDc } from '../../../../src/protocol/dc/serialize.js';
import { DC_ERRCODES, type DcParseLimits, type StreamMetadata } from '../../../../src/protocol/dc/types.js';
import { mutations } from '../../../helpers/mutations.js';

/** Small list limit, as in the session fixtures, so over-limit rows stay readable. */
const LIMITS: DcParseLimits = { maxBytes: 65536, maxListEntries: 8 };
/** §9 defaults. */
const DEFAULTS: DcParseLimits = { maxBytes: 65536, maxListEntries: 200 };

interface ValidFixture {
  frame: Record<string, unknown>;
  message: LinkMessage;
  serialized?: Record<string, unknown>;
}

interface InvalidFixture {
  frame: unknown;
  errcode: string;
  dialect?: 'A' | 'B';
  id?: string;
}

const root = new URL('../../../fixtures/protocol/dc/link/', import.meta.url);

function load<T>(dir: string): [name: string, fixture: T][] {
  const url = new URL(`${dir}/`, root);
  return readdirSync(url)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(new URL(f, url), 'utf8')) as T]);
}

const valid = load<ValidFixture>('valid');
const invalid = load<InvalidFixture>('invalid');

function failure(errcode: string, dialect?: string, id?: string): Record<string, unknown> {
  return {
    ok: false,
    errcode,
    ...(id !== undefined ? { id } : {}),
    ...(dialect !== undefined ? { dialect } : {}),
  };
}

function withoutError(r: LinkParseResult | ReturnType<typeof parseDcFrame>): Record<string, unknown> {
  if (r.ok) {
    return r;
  }
  const { error: _error, ...rest } = r;
  return rest;
}

/** Every key anywhere in a JSON value. */
function keys(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) {
    v.forEach((x) => keys(x, out));
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keys(x, out);
    }
  }
  return out;
}

t.test('valid link fixtures: parse, serialize, parse again', async (t) => {
  for (const [name, f] of valid) {
    t.test(name, async (t) => {
      const r = parseLinkFrame(JSON.stringify(f.frame), LIMITS);
      t.strictSame(r, { ok: true, dialect: 'A', message: f.message }, 'parses to the message');
      const text = serializeLinkFrame(f.message);
      t.strictSame(JSON.parse(text), f.serialized ?? f.frame, 'serializes to the wire shape');
      t.strictSame(parseLinkFrame(text, LIMITS), r, 'the serialized frame parses to the same message');
    });
  }
});

t.test('valid link fixtures cover every link op and every link field', async (t) => {
  t.strictSame(
    [...new Set(valid.map(([, f]) => f.frame.op as string))].sort(),
    [...LINK_OPS].sort(),
    'every op',
  );
  const all = keys(valid.map(([, f]) => f.frame));
  for (const k of ['ssrc', 'layers', 'rid', 'sending']) {
    t.ok(all.has(k), k);
  }
});

t.test('a client session never reads link fields (§8.2: clients cannot announce trunk SSRCs)', async (t) => {
  for (const [name, f] of valid) {
    const text = JSON.stringify(f.frame);
    const r = parseDcFrame(text, LIMITS, 'client');
    if (f.message.kind === 'layers') {
      t.strictSame(withoutError(r), failure('M_BAD_JSON', 'A', f.message.id), `${name}: unknown op`);
      continue;
    }
    if (f.message.kind === 'ack' || f.message.kind === 'error') {
      t.notOk(r.ok, `${name}: not a client message`);
      continue;
    }
    t.ok(r.ok, `${name}: parses as a client message`);
    if (r.ok) {
      const found = keys(r.message);
      t.notOk(found.has('ssrc') || found.has('layers'), `${name}: no link field in the session model`);
    }
  }
});

t.test('the session serializer never writes link fields to a client', async (t) => {
  for (const [name, f] of valid) {
    if (f.message.kind === 'layers') {
      continue;
    }
    for (const dialect of ['A', 'B'] as const) {
      const text = serializeDc(f.message, dialect);
      if (text === undefined) {
        continue;
      }
      const found = keys(JSON.parse(text));
      t.notOk(found.has('ssrc') || found.has('layers'), `${name} in ${dialect}`);
    }
  }
});

t.test('invalid link fixtures', async (t) => {
  for (const [name, f] of invalid) {
    const frame = typeof f.frame === 'string' ? f.frame : JSON.stringify(f.frame);
    const r = parseLinkFrame(frame, LIMITS);
    t.strictSame(withoutError(r), failure(f.errcode, f.dialect, f.id), name);
    t.ok(!r.ok && r.error.length > 0, `${name}: has an error text`);
  }
});

t.test('invalid link fixtures: count and errcodes', async (t) => {
  t.ok(invalid.length >= 40, `${invalid.length} invalid fixtures`);
  t.strictSame([...new Set(invalid.map(([, f]) => f.errcode))].sort(), [
    'M_BAD_JSON',
    'M_INVALID_PARAM',
    'M_LIMIT_EXCEEDED',
    'M_NOT_JSON',
  ]);
});

function audioTracks(n: number): StreamMetadata {
  const tracks: Record<string, { kind: 'audio'; ssrc: number }> = {};
  for (let i = 0; i < n; i++) {
    tracks[`t${i}`] = { kind: 'audio', ssrc: 1000 + i };
  }
  return { 'bob-s': { user_id: '@bob:b.example', device_id: 'BOBDEV', tracks } };
}

t.test('frames that JSON fixtures cannot hold', async (t) => {
  const big = JSON.stringify({ op: 'alive', pad: 'x'.repeat(65536) });
  const rows: [name: string, frame: string | Uint8Array, expected: Record<string, unknown>][] = [
    ['binary frame', new TextEncoder().encode('{"op":"alive"}'), failure('M_NOT_JSON')],
    ['over 64 KiB: not parsed, so no id', big, failure('M_LIMIT_EXCEEDED')],
    [
      '200 tracks in one snapshot (§9 default)',
      JSON.stringify({ op: 'metadata', metadata: audioTracks(200) }),
      { ok: true, dialect: 'A', message: { kind: 'metadata', metadata: audioTracks(200) } },
    ],
    [
      '201 tracks in one snapshot',
      JSON.stringify({ op: 'metadata', id: 'm', metadata: audioTracks(201) }),
      failure('M_LIMIT_EXCEEDED', 'A', 'm'),
    ],
    [
      'a uint32 SSRC that JSON writes with an exponent is still an integer',
      '{"op":"metadata","metadata":{"s":{"user_id":"@u:x","device_id":"D","tracks":{"a":{"kind":"audio","ssrc":4.1e3}}}}}',
      {
        ok: true,
        dialect: 'A',
        message: {
          kind: 'metadata',
          metadata: { s: { user_id: '@u:x', device_id: 'D', tracks: { a: { kind: 'audio', ssrc: 4100 } } } },
        },
      },
    ],
  ];
  for (const [name, frame, expected] of rows) {
    const r = parseLinkFrame(frame, DEFAULTS);
    t.strictSame(r.ok ? r : withoutError(r), expected, name);
  }
});

t.test('parseStreamMetadata: session rules by default, link rules on request', async (t) => {
  const linkMd = { s: { user_id: '@u:x', device_id: 'D', tracks: { a: { kind: 'audio', ssrc: 7 } } } };
  t.strictSame(
    parseStreamMetadata(linkMd),
    { ok: true, metadata: { s: { user_id: '@u:x', device_id: 'D', tracks: { a: { kind: 'audio' } } } } },
    'session: ssrc dropped',
  );
  t.strictSame(parseStreamMetadata(linkMd, 'm', { maxTracks: 200 }), { ok: true, metadata: linkMd }, 'link');
  const r = parseStreamMetadata(
    { s: { user_id: '@u:x', device_id: 'D', tracks: { a: { kind: 'audio' } } } },
    'm',
    {
      maxTracks: 200,
    },
  );
  t.match(
    r,
    { ok: false, errcode: 'M_BAD_JSON', error: /m\["s"\]\.tracks\["a"\]\.ssrc/ },
    'link: ssrc required',
  );
  t.match(parseStreamMetadata(audioTracks(3), 'm', { maxTracks: 2 }), {
    ok: false,
    errcode: 'M_LIMIT_EXCEEDED',
  });
});

t.test('never throws: every node of every valid link fixture replaced with junk', async (t) => {
  const junk = [undefined, null, 0, -1, 1.5, 2 ** 32, '', 'x', 'x'.repeat(65), true, [], {}, [{}], { a: {} }];
  let runs = 0;
  const problems: string[] = [];
  for (const [name, f] of valid) {
    for (const m of mutations(f.frame, junk)) {
      const text = JSON.stringify(m) as string | undefined;
      if (text === undefined) {
        continue;
      }
      runs++;
      try {
        const r = parseLinkFrame(text, LIMITS);
        if (r.ok) {
          const again = parseLinkFrame(serializeLinkFrame(r.message), LIMITS);
          if (!again.ok) {
            problems.push(`${name}: ${text} does not round-trip: ${again.error}`);
          }
        } else if (!DC_ERRCODES.includes(r.errcode) || r.error === '') {
          problems.push(`${name}: ${text} → ${JSON.stringify(r)}`);
        }
      } catch (e) {
        problems.push(`${name}: ${text} threw ${String(e)}`);
      }
    }
  }
  t.strictSame(problems, [], `${runs} mutated frames`);
});
