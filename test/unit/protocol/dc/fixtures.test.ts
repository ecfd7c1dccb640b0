// Data-channel frames of both dialects (protocol.md §5.1–§5.3, §6, §9): the golden fixtures of
// test/fixtures/protocol/dc/{valid,invalid}/ plus table rows for what JSON files cannot hold (binary frames,
// size limits, generated lists).
//
// valid/*.json:   { note?, dialect, from, frame, message, serialized? } — frame parses to message; message
//                 serializes back to `serialized` if given (a normalizing case), else to frame.
// invalid/*.json: { note?, frame, from?, errcode, dialect?, id? } — a string frame is sent as-is, any other
//                 value is stringified; the result carries exactly that errcode, dialect and id.
import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { parseDcFrame } from '../../../../src/protocol/dc/parse.js';
import { serializeDc } from '../../../../src/protocol/dc/serialize.js';
import {
  DC_ERRCODES,
  SERVER_ONLY_KINDS,
  type DcMessage,
  type DcParseLimits,
  type DcParseResult,
  type DcSender,
  type Dialect,
} from '../../../../src/protocol/dc/types.js';
import { mutations } from '../../../helpers/mutations.js';

/** The fixtures run with a small list limit so the over-limit lists stay readable. */
const LIMITS: DcParseLimits = { maxBytes: 65536, maxListEntries: 8 };
/** §9 defaults. */
const DEFAULTS: DcParseLimits = { maxBytes: 65536, maxListEntries: 200 };

interface ValidFixture {
  dialect: Dialect;
  from: DcSender;
  frame: Record<string, unknown>;
  message: DcMessage;
  serialized?: Record<string, unknown>;
}

interface InvalidFixture {
  frame: unknown;
  from?: DcSender;
  errcode: string;
  dialect?: Dialect;
  id?: string;
}

const root = new URL('../../../fixtures/protocol/dc/', import.meta.url);

function load<T>(dir: string): [name: string, fixture: T][] {
  const url = new URL(`${dir}/`, root);
  return readdirSync(url)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -'.json'.length), JSON.parse(readFileSync(new URL(f, url), 'utf8')) as T]);
}

const valid = load<ValidFixture>('valid');
const invalid = load<InvalidFixture>('invalid');

function parse(frame: string | Uint8Array, from: DcSender = 'client', limits = LIMITS): DcParseResult {
  return parseDcFrame(frame, limits, from);
}

/** What the error result must be, apart from its informative `error` text. */
function failure(errcode: string, dialect?: Dialect, id?: string): Record<string, unknown> {
  return {
    ok: false,
    errcode,
    ...(id !== undefined ? { id } : {}),
    ...(dialect !== undefined ? { dialect } : {}),
  };
}

function withoutError(r: DcParseResult): Record<string, unknown> {
  if (r.ok) {
    return r;
  }
  const { error: _error, ...rest } = r;
  return rest;
}

function other(d: Dialect): Dialect {
  return d === 'A' ? 'B' : 'A';
}

/** The message as the other dialect can carry it: B has no ids, `select` is an A spelling. */
function portable(m: DcMessage, to: Dialect): DcMessage {
  const copy: Record<string, unknown> = { ...m };
  if (to === 'B') {
    delete copy.id;
  }
  delete copy.alias;
  return copy as DcMessage;
}

t.test('valid fixtures: parse, serialize, parse again', async (t) => {
  for (const [name, f] of valid) {
    t.test(name, async (t) => {
      const r = parse(JSON.stringify(f.frame), f.from);
      t.strictSame(r, { ok: true, dialect: f.dialect, message: f.message }, 'parses to the message');
      const text = serializeDc(f.message, f.dialect);
      if (text === undefined) {
        t.fail('the message has a form in its dialect');
        return;
      }
      t.strictSame(JSON.parse(text), f.serialized ?? f.frame, 'serializes to the wire shape');
      t.strictSame(parse(text, f.from), r, 'the serialized frame parses to the same message');
    });
  }
});

t.test('valid fixtures: direction', async (t) => {
  for (const [name, f] of valid) {
    const text = JSON.stringify(f.frame);
    if (f.from === 'client') {
      t.strictSame(parse(text, 'server'), parse(text, 'client'), `${name}: a server may send it too`);
    } else if (SERVER_ONLY_KINDS.includes(f.message.kind)) {
      t.strictSame(
        withoutError(parse(text, 'client')),
        failure('M_BAD_JSON', f.dialect, 'id' in f.message ? f.message.id : undefined),
        `${name}: not a client message`,
      );
    }
  }
});

t.test('valid fixtures: the other dialect', async (t) => {
  for (const [name, f] of valid) {
    const to = other(f.dialect);
    const text = serializeDc(f.message, to);
    if (text === undefined) {
      continue;
    }
    t.strictSame(
      parse(text, 'server'),
      { ok: true, dialect: to, message: portable(f.message, to) },
      `${name} in dialect ${to}`,
    );
  }
});

t.test('valid fixtures cover every message kind of both dialects', async (t) => {
  const seen = new Set(valid.map(([, f]) => `${f.dialect} ${f.message.kind}`));
  const expected = [
    ...['subscribe', 'unsubscribe', 'publish', 'unpublish', 'offer', 'answer', 'metadata', 'alive', 'connect']
      .concat(['ack', 'error', 'active_speaker'])
      .map((k) => `A ${k}`),
    ...[
      'track_subscription',
      'offer',
      'answer',
      'metadata',
      'alive',
      'ping',
      'connect',
      'error',
      'active_speaker',
    ].map((k) => `B ${k}`),
  ];
  t.strictSame([...seen].sort(), expected.sort());
  t.ok(
    valid.some(([, f]) => f.message.kind === 'subscribe' && f.message.alias === 'select'),
    'the select alias',
  );
  t.ok(
    valid.some(([, f]) => f.from === 'server') && valid.some(([, f]) => f.from === 'client'),
    'both directions',
  );
});

t.test('invalid fixtures', async (t) => {
  for (const [name, f] of invalid) {
    const frame = typeof f.frame === 'string' ? f.frame : JSON.stringify(f.frame);
    const r = parse(frame, f.from ?? 'client');
    t.strictSame(withoutError(r), failure(f.errcode, f.dialect, f.id), name);
    t.ok(!r.ok && r.error.length > 0, `${name}: has an error text`);
  }
});

t.test('invalid fixtures: count and errcodes', async (t) => {
  t.ok(invalid.length >= 30, `${invalid.length} invalid fixtures`);
  t.strictSame(
    [...new Set(invalid.map(([, f]) => f.errcode))].sort(),
    ['M_BAD_JSON', 'M_INVALID_PARAM', 'M_LIMIT_EXCEEDED', 'M_NOT_JSON'],
    'every errcode the parser gives',
  );
});

/** `{"op":"alive","pad":"<pad>"}` of exactly `bytes` UTF-8 bytes, padded with `unit` (1 or 2 bytes). */
function aliveFrame(bytes: number, unit = 'x'): string {
  const head = '{"op":"alive","id":"big","pad":"';
  const tail = '"}';
  const unitBytes = Buffer.byteLength(unit);
  const room = bytes - head.length - tail.length;
  const text = head + unit.repeat(Math.floor(room / unitBytes)) + 'x'.repeat(room % unitBytes) + tail;
  if (Buffer.byteLength(text) !== bytes) {
    throw new Error('bad padding');
  }
  return text;
}

function refs(n: number): { stream_id: string; track_id: string }[] {
  return Array.from({ length: n }, (_, i) => ({ stream_id: 'bob-s', track_id: `t${i}` }));
}

t.test('frames that JSON fixtures cannot hold', async (t) => {
  const rows: [name: string, frame: string | Uint8Array, expected: Record<string, unknown>][] = [
    ['binary frame', new TextEncoder().encode('{"op":"alive","id":"1"}'), failure('M_NOT_JSON')],
    ['binary frame (Buffer)', Buffer.from('{"type":"m.call.pong","content":{}}'), failure('M_NOT_JSON')],
    ['empty binary frame', new Uint8Array(0), failure('M_NOT_JSON')],
    ['exactly 64 KiB', aliveFrame(65536), { ok: true, dialect: 'A', message: { kind: 'alive', id: 'big' } }],
    ['one byte over 64 KiB: not parsed, so no id', aliveFrame(65537), failure('M_LIMIT_EXCEEDED')],
    [
      '64 KiB counted in UTF-8 bytes: 2-byte characters',
      aliveFrame(65536, 'é'),
      { ok: true, dialect: 'A', message: { kind: 'alive', id: 'big' } },
    ],
    ['over 64 KiB in UTF-8, under in UTF-16 units', aliveFrame(65538, 'é'), failure('M_LIMIT_EXCEEDED')],
    ['oversize garbage is a limit, not a JSON error', 'x'.repeat(70000), failure('M_LIMIT_EXCEEDED')],
    [
      '200 entries (§9 default)',
      JSON.stringify({ op: 'subscribe', id: 'l', start: refs(200) }),
      {
        ok: true,
        dialect: 'A',
        message: {
          kind: 'subscribe',
          id: 'l',
          tracks: refs(200).map((r) => ({ streamId: r.stream_id, trackId: r.track_id })),
        },
      },
    ],
    [
      '201 entries in subscribe',
      JSON.stringify({ op: 'subscribe', id: 'l', start: refs(201) }),
      failure('M_LIMIT_EXCEEDED', 'A', 'l'),
    ],
    [
      '201 entries in one B list',
      JSON.stringify({
        type: 'm.call.track_subscription',
        content: { subscribe: refs(100), unsubscribe: refs(201) },
      }),
      failure('M_LIMIT_EXCEEDED', 'B'),
    ],
    [
      'the limit is per list: 200 + 200',
      JSON.stringify({
        type: 'm.call.track_subscription',
        content: { subscribe: refs(200), unsubscribe: refs(200) },
      }),
      {
        ok: true,
        dialect: 'B',
        message: {
          kind: 'track_subscription',
          subscribe: refs(200).map((r) => ({ streamId: r.stream_id, trackId: r.track_id })),
          unsubscribe: refs(200).map((r) => ({ streamId: r.stream_id, trackId: r.track_id })),
        },
      },
    ],
    [
      'deeply nested unknown key',
      `{"op":"alive","x":${'['.repeat(30000)}${']'.repeat(30000)}}`,
      { ok: true, dialect: 'A', message: { kind: 'alive' } },
    ],
    [
      'an id of 64 astral characters (counted in code points)',
      JSON.stringify({ op: 'alive', id: '😀'.repeat(64) }),
      { ok: true, dialect: 'A', message: { kind: 'alive', id: '😀'.repeat(64) } },
    ],
    [
      'an id of 65 astral characters',
      JSON.stringify({ op: 'alive', id: '😀'.repeat(65) }),
      failure('M_BAD_JSON', 'A'),
    ],
  ];
  for (const [name, frame, expected] of rows) {
    const r = parse(frame, 'client', DEFAULTS);
    t.strictSame(r.ok ? r : withoutError(r), expected, name);
  }
});

t.test('`__proto__` keys stay own data, the prototype is untouched', async (t) => {
  const frame =
    '{"op":"metadata","metadata":{"__proto__":{"purpose":"m.usermedia","tracks":{"__proto__":{"kind":"audio"}}}}}';
  const r = parse(frame);
  if (!r.ok || r.message.kind !== 'metadata') {
    t.fail('parses');
    return;
  }
  const m = r.message.metadata;
  t.ok(Object.hasOwn(m, '__proto__'), 'own stream key');
  t.equal(Object.getPrototypeOf(m), Object.prototype, 'metadata prototype unchanged');
  t.strictSame(Object.keys(m), ['__proto__']);
  const text = serializeDc(r.message, 'B');
  t.equal(
    text,
    '{"type":"m.call.sdp_stream_metadata_changed","content":{"sdp_stream_metadata":{"__proto__":{"purpose":"m.usermedia","tracks":{"__proto__":{"kind":"audio"}}}}}}',
  );
  t.equal(({} as Record<string, unknown>).purpose, undefined, 'Object.prototype not polluted');
});

t.test('messages without a form in a dialect serialize to undefined', async (t) => {
  const rows: [DcMessage, Dialect][] = [
    [{ kind: 'track_subscription', subscribe: [], unsubscribe: [] }, 'A'],
    [{ kind: 'ping' }, 'A'],
    [{ kind: 'subscribe', id: '1', tracks: [] }, 'B'],
    [{ kind: 'subscribe', tracks: [], alias: 'select' }, 'B'],
    [{ kind: 'unsubscribe', tracks: [] }, 'B'],
    [{ kind: 'publish', sdp: 'v=0', metadata: {} }, 'B'],
    [{ kind: 'unpublish', tracks: [], sdp: 'v=0' }, 'B'],
    [{ kind: 'ack', id: '7' }, 'B'],
  ];
  for (const [m, d] of rows) {
    t.equal(serializeDc(m, d), undefined, `${m.kind} in ${d}`);
  }
});

t.test('serializing drops what the model does not have', async (t) => {
  const message = {
    kind: 'error',
    id: '8',
    errcode: 'M_NOT_FOUND',
    error: 'unknown track bob-v',
    extra: 1,
  } as DcMessage;
  t.equal(
    serializeDc(message, 'B'),
    '{"type":"org.matrix.msc3898.error","content":{"errcode":"M_NOT_FOUND","error":"unknown track bob-v"}}',
    'B: no id, no stray keys',
  );
  t.equal(
    serializeDc(
      { kind: 'metadata', metadata: { s: { tracks: { t: { kind: 'audio', label: 'x' } as never } } } },
      'A',
    ),
    '{"op":"metadata","metadata":{"s":{"tracks":{"t":{"kind":"audio"}}}}}',
    'only §6 fields',
  );
});

t.test('never throws: every node of every valid fixture replaced with junk', async (t) => {
  const junk = [undefined, null, 0, -1, 1.5, 16385, '', 'x', 'x'.repeat(65), true, [], {}, [{}], { a: {} }];
  let runs = 0;
  const problems: string[] = [];
  for (const [name, f] of valid) {
    for (const from of ['client', 'server'] as const) {
      for (const m of mutations(f.frame, junk)) {
        const text = JSON.stringify(m) as string | undefined;
        if (text === undefined) {
          continue;
        }
        runs++;
        try {
          const r = parse(text, from);
          if (r.ok) {
            serializeDc(r.message, 'A');
            serializeDc(r.message, 'B');
          } else if (!DC_ERRCODES.includes(r.errcode) || r.error === '') {
            problems.push(`${name}: ${text} → ${JSON.stringify(r)}`);
          }
        } catch (e) {
          problems.push(`${name}: ${text} threw ${String(e)}`);
        }
      }
    }
  }
  t.strictSame(problems, [], `${runs} mutated frames`);
});
