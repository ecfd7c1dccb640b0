// Small pure parts of the client: ids from Web Crypto, the format (c) membership writer (§3.3), the focus checks
// of §4.4/§4.5 and stream metadata from an offer (§6).
import t from 'tap';
import { checkBase, checkHangup, HANGUP_REASONS } from '../../../client/focusChecks.js';
import { newCallId, randomHex, randomToken } from '../../../client/ids.js';
import { formatC, memberStateKey } from '../../../client/membership.js';
import { metadataFromSdp } from '../../../client/metadata.js';

t.test('ids', async (t) => {
  t.match(randomHex(4), /^[0-9a-f]{8}$/);
  t.match(randomToken(12), /^[A-Za-z0-9_-]{12}$/);
  t.match(newCallId(1700000000000), /^1700000000000[A-Za-z0-9_-]{8}$/);
  t.not(randomHex(8), randomHex(8), 'random');
});

t.test('format (c): the per-device state event naming the focus, and {} to leave', async (t) => {
  const me = { userId: '@carol:example.org', deviceId: 'CAROLDEV' };
  const focus = { user_id: '@sfu:example.org', device_id: 'SFUDEV1' };
  const ref = { type: 'org.matrix.msc3898', ...focus };
  t.same(formatC.join(me, focus, {}, 1700000000000), {
    kind: 'state',
    eventType: 'org.matrix.msc3401.call.member',
    stateKey: '_@carol:example.org_CAROLDEV_m.call',
    content: {
      application: 'm.call',
      call_id: '',
      scope: 'm.room',
      device_id: 'CAROLDEV',
      focus_active: ref,
      foci_preferred: [ref],
      created_ts: 1700000000000,
      expires: 14400000,
    },
  });
  t.match(formatC.join(me, focus, { callId: 'c1', scope: 'm.user', expiresMs: 5, createdTs: 7 }, 0), {
    content: { call_id: 'c1', scope: 'm.user', expires: 5, created_ts: 7 },
  });
  t.same(formatC.leave(me), {
    kind: 'state',
    eventType: 'org.matrix.msc3401.call.member',
    stateKey: memberStateKey(me.userId, me.deviceId),
    content: {},
  });
});

t.test('checkBase and checkHangup', async (t) => {
  const call = { confId: 'c', sessionId: 's1', focus: { user_id: '@sfu:x', device_id: 'SFU' } };
  const good = {
    call_id: 'k',
    conf_id: 'c',
    party_id: 'SFU',
    version: '1',
    device_id: 'SFU',
    dest_session_id: 's1',
    sender_session_id: 'sfu',
  };
  t.same(checkBase('@sfu:x', good, call), []);
  t.match(checkBase('@sfu:x', { ...good, version: 1 }, call), [/version is 1, expected "1"/]);
  t.match(checkBase('@sfu:x', { ...good, sender_session_id: '' }, call), [/sender_session_id "" is not/]);
  t.match(checkBase('@sfu:x', { ...good, party_id: 'X', device_id: 'X' }, call), [/party_id/, /device_id/]);
  t.match(checkBase('@other:x', { ...good, conf_id: 'd', seq: 0 }, call), [
    /sender/,
    /conf_id/,
    /carries seq 0/,
  ]);
  for (const reason of HANGUP_REASONS.filter((r) => r !== 'unknown_error')) {
    t.same(checkHangup({ reason }), [], reason);
  }
  t.same(
    checkHangup({ reason: 'unknown_error', 'org.matrix.msc3898.error': { errcode: 'M_X', error: 'y' } }),
    [],
  );
  t.match(checkHangup({}), [/reason undefined/]);
  t.match(checkHangup({ reason: 'unknown_error', 'org.matrix.msc3898.error': { errcode: 'M_X' } }), [
    /without/,
  ]);
});

t.test('metadataFromSdp: the sending sections with an msid', async (t) => {
  const sdp = [
    'v=0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=sendrecv',
    'a=msid:s a',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=sendonly',
    'a=msid:s v',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=recvonly',
    'a=msid:r rv',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=msid:- x',
    'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
    '',
  ].join('\r\n');
  t.same(metadataFromSdp(sdp, '@a:x', 'D'), {
    s: {
      user_id: '@a:x',
      device_id: 'D',
      purpose: 'm.usermedia',
      audio_muted: false,
      video_muted: false,
      tracks: { a: { kind: 'audio' }, v: { kind: 'video' } },
    },
  });
});
