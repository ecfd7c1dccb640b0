import t from 'tap';
import {
  announceCandidate,
  announceSdp,
  extractCandidates,
  hasBundleGroup,
  stripCandidates,
} from '../../../src/protocol/sdp.js';

const sdp = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host',
  'a=candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 10.0.0.5 rport 40000',
  'a=end-of-candidates',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:1',
  'a=candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host',
  '',
].join('\r\n');

t.test('BUNDLE detection', async (t) => {
  t.equal(hasBundleGroup(sdp), true);
  t.equal(hasBundleGroup(sdp.replace('a=group:BUNDLE 0 1\r\n', '')), false);
  t.equal(hasBundleGroup('v=0\na=group:BUNDLE\n'), false, 'a group with no mids is no bundle');
  t.equal(hasBundleGroup('v=0\na=group:LS 0 1\n'), false);
});

t.test('candidates per m-line with mid and index', async (t) => {
  t.same(extractCandidates(sdp), [
    { candidate: 'candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    {
      candidate: 'candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 10.0.0.5 rport 40000',
      sdpMid: '0',
      sdpMLineIndex: 0,
    },
    { candidate: 'candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host', sdpMid: '1', sdpMLineIndex: 1 },
  ]);
  t.same(extractCandidates('v=0\r\n'), []);
});

t.test('stripCandidates keeps everything else', async (t) => {
  const out = stripCandidates(sdp);
  t.notMatch(out, /a=candidate/);
  t.notMatch(out, /end-of-candidates/);
  t.match(out, /a=mid:1\r\n/);
  t.ok(out.endsWith('\r\n'));
});

t.test('announced IPs replace host candidates, one per IP; others kept', async (t) => {
  const host = 'candidate:1 1 udp 2130706431 10.0.0.5 40000 typ host generation 0';
  t.same(announceCandidate(host, []), [host], 'no announced IPs: unchanged');
  t.same(announceCandidate(host, ['203.0.113.9']), [
    'candidate:1 1 udp 2130706431 203.0.113.9 40000 typ host generation 0',
  ]);
  t.same(announceCandidate(host, ['203.0.113.9', '2001:db8::9']), [
    'candidate:1 1 udp 2130706431 203.0.113.9 40000 typ host generation 0',
    'candidate:1a1 1 udp 2130706430 2001:db8::9 40000 typ host generation 0',
  ]);
  const srflx = 'candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx raddr 10.0.0.5 rport 40000';
  t.same(announceCandidate(srflx, ['203.0.113.9']), [srflx], 'non-host untouched');
  t.same(announceCandidate('garbage', ['203.0.113.9']), ['garbage']);
  const out = announceSdp(sdp, ['203.0.113.9']);
  t.equal((out.match(/203\.0\.113\.9 40000 typ host/g) ?? []).length, 2);
  t.notMatch(out, /10\.0\.0\.5 40000 typ host/);
});
