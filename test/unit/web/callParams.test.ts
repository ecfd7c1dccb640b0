/**
 * The call page's pure parts: fragment settings (defaults from config.json, `format` values, what is missing
 * before a join), display names, and the per-tile stats (frame size, bit rate and loss since the last sample,
 * the nominated pair's RTT; missing fields never NaN).
 */
import t from 'tap';
import { displayName, missing, parseFragment } from '../../../web/call/params.js';
import { statsLine, trackStats, type TrackSample } from '../../../web/call/stats.js';

t.test('fragment settings', async (t) => {
  const p = parseFragment(
    '#hs=https%3A%2F%2Fhs.example&user=alice&password=pw&room=%23r%3Ahs.example&format=d',
  );
  t.same(p, {
    hs: 'https://hs.example',
    user: 'alice',
    password: 'pw',
    token: '',
    device: '',
    room: '#r:hs.example',
    key: '',
    format: 'd',
  });
  t.same(missing(p), []);
  const d = parseFragment('', { homeserverUrl: 'http://127.0.0.1:8008', room: '!x:y' });
  t.equal(d.hs, 'http://127.0.0.1:8008', 'homeserver from config.json');
  t.equal(d.room, '!x:y');
  t.equal(d.format, 'auto', 'format defaults to auto');
  t.equal(parseFragment('#format=zz').format, 'auto', 'an unknown format is auto');
  t.same(missing(d), ['user', 'password']);
  t.same(
    missing(parseFragment('#hs=ftp://x&user=a&token=t&room=r')),
    ['homeserver URL'],
    'a token stands for the password',
  );
  t.equal(displayName('@alice:hs.example'), 'alice');
  t.equal(displayName('bob'), 'bob');
});

t.test('per-tile stats', async (t) => {
  const samples = new Map<string, TrackSample>();
  const pair = { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.004 };
  const inbound = (bytes: number, packets: number, lost: number) => ({
    type: 'inbound-rtp',
    kind: 'video',
    trackIdentifier: 'v1',
    bytesReceived: bytes,
    packetsReceived: packets,
    packetsLost: lost,
    frameWidth: 640,
    frameHeight: 360,
    framesDecoded: 90,
  });
  const first = trackStats([inbound(1000, 10, 0), pair], 'v1', samples, 1000);
  t.same(first, {
    width: 640,
    height: 360,
    bitrateBps: undefined,
    loss: undefined,
    framesDecoded: 90,
    rttMs: 4,
  });
  const second = trackStats([inbound(126_000, 108, 2), pair], 'v1', samples, 2000);
  t.equal(second?.bitrateBps, 1_000_000, '125 000 bytes in 1 s');
  t.equal(second?.loss, 0.02, '2 lost of 100');
  t.equal(statsLine(second, 'video'), '640×360 · 1000 kbit/s · 2.0 % loss · RTT 4 ms');
  t.equal(trackStats([pair], 'v1', samples, 3000), undefined, 'no such track');
  t.equal(statsLine(undefined, 'video'), 'no media yet');
  const bare = trackStats(
    [{ type: 'inbound-rtp', trackIdentifier: 'v2', packetsLost: Number.NaN }],
    'v2',
    samples,
    1,
  );
  t.same(bare, {
    width: undefined,
    height: undefined,
    bitrateBps: undefined,
    loss: undefined,
    framesDecoded: undefined,
    rttMs: undefined,
  });
  t.equal(statsLine(bare, 'video'), '–×– · – kbit/s · – loss · RTT –');
});
