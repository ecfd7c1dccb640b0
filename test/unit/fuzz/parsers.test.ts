/**
 * Fuzz (issue 17): mutated and random inputs to the parsers of what clients and other foci send — to-device call
 * contents, data-channel frames (client and link dialects) and SDP offers. Each input: no throw; a refusal is a
 * Matrix errcode with a message (to-device, data channel); the SDP readers return their documented shapes. Seeds
 * are valid inputs (the DC fixtures, §4's contents, a browser-like offer); each input is 1–4 random edits of a
 * seed, or random text / bytes. `FUZZ_INPUTS` inputs per test (test/helpers/fuzz.ts); a failure names its seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { keepSimulcastInOffer } from '../../../src/media/offerSimulcast.js';
import { parseLinkFrame } from '../../../src/protocol/dc/linkParse.js';
import { parseDcFrame } from '../../../src/protocol/dc/parse.js';
import type { DcParseLimits, DcSender } from '../../../src/protocol/dc/types.js';
import {
  announceSdp,
  extractCandidates,
  hasBundleGroup,
  mediaSections,
  offerProblem,
  remoteMediaTracks,
  stripCandidates,
} from '../../../src/protocol/sdp.js';
import { signalledSsrcs } from '../../../src/protocol/sdpSsrc.js';
import { parseCallEvent } from '../../../src/protocol/toDevice.js';
import {
  fuzzInputs,
  int,
  junk,
  mutateBytes,
  mutateJson,
  mutateText,
  pick,
  randomBytes,
  rng,
} from '../../helpers/fuzz.js';

const N = fuzzInputs();
const ERRCODE = /^M_[A-Z_]+$/;
const DC_LIMITS: DcParseLimits = { maxBytes: 65536, maxListEntries: 200 };

const OFFER = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1 2',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS alice-s',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host',
  'a=ice-ufrag:aBcD',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=fingerprint:sha-256 AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=sendrecv',
  'a=msid:alice-s alice-a',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1001 cname:x',
  'a=ssrc:1001 msid:alice-s alice-a',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:aBcD',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=setup:actpass',
  'a=mid:1',
  'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid',
  'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'a=extmap:3 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=sendrecv',
  'a=msid:alice-s alice-v',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtcp-fb:96 goog-remb',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rid:q send',
  'a=rid:h send',
  'a=rid:f send',
  'a=simulcast:send q;h;f',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:aBcD',
  'a=ice-pwd:0123456789abcdefghijklmn',
  'a=setup:actpass',
  'a=mid:2',
  'a=sctp-port:5000',
  '',
].join('\r\n');

const COMMON = {
  call_id: '1700000000123xYz',
  conf_id: '1700000000000aBcD',
  party_id: 'ALICEDEV',
  version: '1',
  device_id: 'ALICEDEV',
  sender_session_id: 's-alice-1',
  dest_session_id: 'sfu',
};
const METADATA = {
  'alice-s': {
    user_id: '@alice:example.org',
    device_id: 'ALICEDEV',
    purpose: 'm.usermedia',
    tracks: { 'alice-a': { kind: 'audio' }, 'alice-v': { kind: 'video', width: 1280, height: 720 } },
  },
};
const CALL_SEEDS: [string, Record<string, unknown>][] = [
  [
    'm.call.invite',
    {
      ...COMMON,
      seq: 0,
      lifetime: 60000,
      invitee: '@sfu:example.org',
      offer: { type: 'offer', sdp: OFFER },
      'org.matrix.msc3077.sdp_stream_metadata': METADATA,
    },
  ],
  [
    'm.call.candidates',
    {
      ...COMMON,
      seq: 1,
      candidates: [
        {
          candidate: 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host',
          sdpMid: '0',
          sdpMLineIndex: 0,
        },
        { candidate: '' },
      ],
    },
  ],
  ['m.call.hangup', { ...COMMON, seq: 2, reason: 'user_hangup' }],
  ['m.call.negotiate', { ...COMMON, seq: 3, lifetime: 10000, description: { type: 'answer', sdp: OFFER } }],
  ['m.call.select_answer', { ...COMMON, seq: 4, selected_party_id: 'SFUDEV1' }],
  ['m.call.reject', { ...COMMON, seq: 5 }],
];
const FOCUS = { userId: '@sfu:example.org', deviceId: 'SFUDEV1' };

t.test(`to-device call contents: ${N} inputs, none throws, every refusal an errcode`, async (t) => {
  const r = rng(0x70de);
  let ok = 0;
  let refused = 0;
  for (let i = 0; i < N; i++) {
    const [seedType, seed] = pick(r, CALL_SEEDS);
    const type = r() < 0.05 ? JSON.stringify(junk(r)) : r() < 0.1 ? pick(r, CALL_SEEDS)[0] : seedType;
    const content = r() < 0.05 ? junk(r) : mutateJson(seed, r);
    let res;
    try {
      res = parseCallEvent(type, content, { maxInviteSdpBytes: 65536 }, FOCUS);
    } catch (e) {
      t.fail(`input ${i} (${type}) threw: ${String(e)}`);
      continue;
    }
    if (res.ok) {
      ok++;
    } else if (ERRCODE.test(res.errcode) && typeof res.error === 'string' && res.error !== '') {
      refused++;
    } else {
      t.fail(`input ${i}: a refusal without an errcode and message: ${JSON.stringify(res)}`);
    }
  }
  t.equal(ok + refused, N, `${ok} accepted, ${refused} refused with an errcode`);
  t.ok(
    ok > 0 && refused > 0,
    'the inputs reach both outcomes (the mutations are not all fatal or all harmless)',
  );
});

interface FrameFixture {
  frame: unknown;
  from?: DcSender;
}

function frames(dir: string): FrameFixture[] {
  const url = new URL(`../../fixtures/protocol/dc/${dir}/`, import.meta.url);
  return readdirSync(url)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(new URL(f, url), 'utf8')) as FrameFixture);
}

/** One fuzzed frame: an edited seed object, edited JSON text, random junk, or bytes. */
function frameInput(seed: FrameFixture, r: () => number): string | Uint8Array {
  switch (int(r, 5)) {
    case 0:
      return JSON.stringify(junk(r));
    case 1:
      return mutateText(JSON.stringify(seed.frame), r);
    case 2:
      return r() < 0.5 ? randomBytes(r, 200) : mutateBytes(Buffer.from(JSON.stringify(seed.frame)), r);
    default:
      return JSON.stringify(mutateJson(seed.frame, r));
  }
}

t.test(`data-channel frames (client dialects A and B, and links): ${N} inputs, none throws`, async (t) => {
  const r = rng(0xdc);
  const client = frames('valid');
  const link = frames('link/valid');
  t.ok(client.length > 20 && link.length > 5, 'seeded from the fixtures');
  const seen = { ok: 0, refused: 0 };
  for (let i = 0; i < N; i++) {
    const isLink = r() < 0.3;
    const seed = pick(r, isLink ? link : client);
    const input = frameInput(seed, r);
    let res;
    try {
      res = isLink
        ? parseLinkFrame(input, DC_LIMITS)
        : parseDcFrame(input, DC_LIMITS, seed.from ?? (r() < 0.5 ? 'client' : 'server'));
    } catch (e) {
      t.fail(`input ${i} (${isLink ? 'link' : 'client'}) threw: ${String(e)}`);
      continue;
    }
    if (res.ok) {
      seen.ok++;
    } else if (ERRCODE.test(res.errcode) && res.error !== '') {
      seen.refused++;
    } else {
      t.fail(`input ${i}: a refusal without an errcode: ${JSON.stringify(res)}`);
    }
  }
  t.equal(seen.ok + seen.refused, N, `${seen.ok} parsed, ${seen.refused} refused with an errcode`);
  t.ok(seen.ok > 0 && seen.refused > 0, 'both outcomes reached');
});

t.test(`SDP offers: ${N} edited offers through every SDP reader, none throws`, async (t) => {
  const r = rng(0x5d9);
  let problems = 0;
  for (let i = 0; i < N; i++) {
    const sdp = r() < 0.05 ? randomBytes(r, 300).toString('latin1') : mutateText(OFFER, r);
    try {
      const problem = offerProblem(sdp, int(r, 4));
      if (problem !== undefined) {
        problems++;
      }
      const shapes =
        (problem === undefined || (typeof problem === 'string' && problem !== '')) &&
        Array.isArray(remoteMediaTracks(sdp)) &&
        Array.isArray(mediaSections(sdp)) &&
        signalledSsrcs(sdp) instanceof Map &&
        Array.isArray(extractCandidates(sdp)) &&
        typeof stripCandidates(sdp) === 'string' &&
        typeof announceSdp(sdp, ['203.0.113.5']) === 'string' &&
        typeof hasBundleGroup(sdp) === 'boolean' &&
        typeof keepSimulcastInOffer(sdp, r() < 0.5 ? OFFER : undefined) === 'string';
      if (!shapes) {
        t.fail(`offer ${i}: a reader returned another shape\n${JSON.stringify(sdp.slice(0, 400))}`);
      }
    } catch (e) {
      t.fail(`offer ${i} threw: ${String(e)}\n${JSON.stringify(sdp.slice(0, 400))}`);
    }
  }
  t.ok(problems > 0, `${problems} of ${N} offers refused by offerProblem`);
});
