/**
 * protocol/sdpSsrc: the media SSRCs each m-line signals, repair SSRCs (FID, FEC-FR) left out, SIM members
 * kept, garbage and out-of-range ids ignored, m-lines without a mid skipped.
 */
import t from 'tap';
import { signalledSsrcs } from '../../../src/protocol/sdpSsrc.js';

const sdp = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=ssrc:1001 cname:x',
  'a=ssrc:1001 msid:s a',
  'm=video 9 UDP/TLS/RTP/SAVPF 96 97',
  'a=mid:1',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:x',
  'a=ssrc:2002 cname:x',
  'a=ssrc:4294967295 cname:x',
  'a=ssrc:4294967296 cname:x',
  'a=ssrc:abc cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:2',
  'a=ssrc-group:SIM 3001 3002',
  'a=ssrc:3001 cname:x',
  'a=ssrc:3002 cname:x',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:3',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=ssrc:5001 cname:x',
  '',
].join('\r\n');

t.test('media SSRCs per mid', async (t) => {
  const m = signalledSsrcs(sdp);
  t.same(m.get('0'), [1001], 'one SSRC listed twice counts once');
  t.same(m.get('1'), [2001, 4294967295], 'the FID repair SSRC and out-of-range ids left out');
  t.same(m.get('2'), [3001, 3002], 'SIM members kept');
  t.same(m.get('3'), [], 'no a=ssrc: none');
  t.same([...m.keys()], ['0', '1', '2', '3'], 'an m-line without a mid is skipped');
  t.same(signalledSsrcs(''), new Map());
});
