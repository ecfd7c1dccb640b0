// Focus discovery (client/focusDiscovery.ts): the rtc_foci table with every kind of bad entry, and the order
// .well-known → configured → NoFocusError.
import t from 'tap';
import { NoFocusError } from '../../../client/errors.js';
import { discoverFocus, parseRtcFoci } from '../../../client/focusDiscovery.js';
import { fakeFetch } from './fakeFetch.js';

const SFU = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
const entry = (over: Record<string, unknown> = {}) => ({ type: 'org.matrix.msc3898', ...SFU, ...over });

t.test('parseRtcFoci: valid MSC3898 entries in order; everything else skipped with a reason', async (t) => {
  const rows: { what: string; body: unknown; foci: unknown[]; ignored: RegExp[] }[] = [
    { what: 'one valid entry', body: { 'org.matrix.msc4143.rtc_foci': [entry()] }, foci: [SFU], ignored: [] },
    { what: 'no key', body: { 'm.homeserver': { base_url: 'https://hs' } }, foci: [], ignored: [] },
    { what: 'body not an object', body: ['x'], foci: [], ignored: [/not a JSON object/] },
    {
      what: 'not a list',
      body: { 'org.matrix.msc4143.rtc_foci': entry() },
      foci: [],
      ignored: [/not a list/],
    },
    {
      what: 'livekit before ours',
      body: {
        'org.matrix.msc4143.rtc_foci': [{ type: 'livekit', livekit_service_url: 'https://lk' }, entry()],
      },
      foci: [SFU],
      ignored: [/entry 0: type "livekit"/],
    },
    {
      what: 'bad entries',
      body: {
        'org.matrix.msc4143.rtc_foci': [
          'sfu',
          null,
          { user_id: SFU.user_id, device_id: 'X' },
          entry({ user_id: undefined }),
          entry({ user_id: 'sfu' }),
          entry({ user_id: '@sfu' }),
          entry({ user_id: 42 }),
          entry({ device_id: '' }),
          entry({ device_id: 'A B' }),
          entry({ device_id: 'x'.repeat(256) }),
          entry({ device_id: 7 }),
        ],
      },
      foci: [],
      ignored: [
        /entry 0: not an object/,
        /entry 1: not an object/,
        /entry 2: type undefined/,
        /entry 3: user_id undefined/,
        /entry 4: user_id "sfu"/,
        /entry 5: user_id "@sfu"/,
        /entry 6: user_id 42/,
        /entry 7: device_id ""/,
        /entry 8: device_id "A B"/,
        /entry 9: device_id/,
        /entry 10: device_id 7/,
      ],
    },
    {
      what: 'duplicates and a second focus',
      body: {
        'org.matrix.msc4143.rtc_foci': [entry(), entry({ extra: true }), entry({ device_id: 'SFUDEV2' })],
      },
      foci: [SFU, { ...SFU, device_id: 'SFUDEV2' }],
      ignored: [/entry 1: duplicate/],
    },
  ];
  for (const row of rows) {
    const out = parseRtcFoci(row.body);
    t.same(out.foci, row.foci, `${row.what}: foci`);
    t.match(out.ignored, row.ignored, `${row.what}: reasons`);
    t.equal(out.ignored.length, row.ignored.length, `${row.what}: one reason per skipped entry`);
  }
});

t.test('discoverFocus: .well-known first (no access token sent), then the configured focus', async (t) => {
  const other = { user_id: '@other:example.org', device_id: 'OTHER' };
  const wk = fakeFetch(() => ({ status: 200, body: { 'org.matrix.msc4143.rtc_foci': [entry()] } }));
  const found = await discoverFocus({
    wellKnownBase: 'https://example.org',
    configured: other,
    fetch: wk.fetch,
  });
  t.same(found, { focus: SFU, source: 'well-known', notes: [] });
  t.equal(wk.seen[0]!.url.href, 'https://example.org/.well-known/matrix/client');
  t.equal(wk.seen[0]!.headers['authorization'], undefined, 'no token to .well-known');

  const rows: { what: string; respond: Parameters<typeof fakeFetch>[0] | 'throw'; note: RegExp }[] = [
    { what: '404', respond: () => ({ status: 404, body: {} }), note: /→ 404/ },
    {
      what: 'only livekit',
      respond: () => ({ status: 200, body: { 'org.matrix.msc4143.rtc_foci': [{ type: 'livekit' }] } }),
      note: /livekit/,
    },
    { what: 'no foci', respond: () => ({ status: 200, body: {} }), note: /no org\.matrix\.msc3898 focus/ },
    { what: 'unreachable', respond: 'throw', note: /unreachable/ },
    { what: 'silent', respond: () => 'hang', note: /timed out after 50 ms/ },
  ];
  for (const row of rows) {
    const fetch =
      row.respond === 'throw'
        ? () => Promise.reject(new TypeError('unreachable'))
        : fakeFetch(row.respond).fetch;
    const got = await discoverFocus({
      wellKnownBase: 'https://example.org',
      configured: other,
      fetch,
      timeoutMs: 50,
    });
    t.match(got, { focus: other, source: 'configured' }, `${row.what}: the configured focus`);
    t.match(got.notes, [row.note], `${row.what}: noted`);
  }

  const none = fakeFetch(() => ({ status: 404, body: {} }));
  await t.rejects(discoverFocus({ wellKnownBase: 'https://example.org', fetch: none.fetch }), {
    name: 'NoFocusError',
    step: 'focus',
    message: /no focus to call: .*404/,
    hint: /rtc_foci/,
  });
  await t.rejects(discoverFocus({}), new NoFocusError('no focus to call: none configured'));
  await t.rejects(discoverFocus({ configured: { user_id: 'sfu', device_id: 'X' } }), {
    name: 'NoFocusError',
    message: /configured focus is unusable/,
  });
  const off = fakeFetch(() => ({ status: 500, body: {} }));
  t.match(await discoverFocus({ configured: other, fetch: off.fetch }), { focus: other, notes: [] });
  t.equal(off.seen.length, 0, 'no .well-known request when discovery is off');
});
