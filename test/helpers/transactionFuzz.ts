/**
 * The appservice-transaction fuzz inputs (test/unit/fuzz/transactions.test.ts, and the stop regression's child
 * test/helpers/stopUnreachableChild.ts): edits of one valid transaction — membership state in all formats, a
 * to-device invite with an SDP offer and a hangup, an ephemeral event — edited JSON text, odd transaction ids and
 * wrong tokens, all from one seeded generator.
 */
import { readFileSync } from 'node:fs';
import { asApp, HS_TOKEN } from '../../harness/sfu.js';
import { int, mutateJson, mutateText, pick, type Rng } from './fuzz.js';

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/matrix/${path}`, import.meta.url), 'utf8'));

const OFFER =
  'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n';
const INVITE = {
  type: 'm.call.invite',
  sender: '@carol:example.org',
  to_user_id: '@sfu:example.org',
  to_device_id: 'SFUDEV1',
  content: {
    call_id: 'c1',
    conf_id: 'conf1',
    party_id: 'CAROLDEV',
    version: '1',
    device_id: 'CAROLDEV',
    sender_session_id: 's1',
    dest_session_id: 'sfu',
    seq: 0,
    lifetime: 60000,
    offer: { type: 'offer', sdp: OFFER },
    'org.matrix.msc3077.sdp_stream_metadata': {},
  },
};
export const TRANSACTION = {
  events: [
    fixture('m.call.member/session.json'),
    fixture('m.call.member/memberships.json'),
    fixture('m.rtc.member/sticky.json'),
    {
      type: 'm.room.member',
      state_key: '@carol:example.org',
      sender: '@carol:example.org',
      room_id: '!r1:example.org',
      origin_server_ts: 1700000000000,
      event_id: '$m1',
      content: { membership: 'join' },
    },
  ],
  'de.sorunome.msc2409.to_device': [INVITE],
  to_device: [{ ...INVITE, type: 'm.call.hangup' }],
  'de.sorunome.msc2409.ephemeral': [
    { type: 'm.typing', room_id: '!r1:example.org', content: { user_ids: [] } },
  ],
};

/** Transaction ids as they appear in the URL path. */
const ODD_TXN_IDS = [
  'x'.repeat(300),
  '%2F',
  '%00',
  '%F0%9F%98%80',
  '..',
  '%25',
  'a%20b',
  '-',
  'x'.repeat(99),
  '%ZZ',
];

/** The seed of the CI fuzz run (the stop regression replays its first inputs). */
export const TRANSACTION_FUZZ_SEED = 0x7a5;

/** The `i`th request of the fuzz: where to PUT, with which token, and the body. */
export function transactionInput(r: Rng, i: number): { url: string; token: string; body: string } {
  const txn = r() < 0.1 ? pick(r, ODD_TXN_IDS) : `t${i}`;
  const token = r() < 0.05 ? pick(r, ['', 'wrong', `${HS_TOKEN}x`]) : HS_TOKEN;
  const body =
    int(r, 10) === 0
      ? mutateText(JSON.stringify(TRANSACTION), r)
      : JSON.stringify(mutateJson(TRANSACTION, r));
  return { url: `/_matrix/app/v1/transactions/${txn}`, token, body };
}

/** PUTs the `i`th fuzz request to the SFU's appservice routes (Fastify `inject`). */
export function putTransaction(app: ReturnType<typeof asApp>, r: Rng, i: number) {
  const { url, token, body } = transactionInput(r, i);
  return app.inject({
    method: 'PUT',
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: body,
  });
}
