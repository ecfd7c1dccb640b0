/**
 * keepSimulcastInOffer: an SFU offer's m-line that received simulcast in the previous answer gets its
 * `a=rid … recv` and `a=simulcast:recv` lines back; other m-lines, offers that already carry them, m-lines the
 * SFU no longer receives on (inactive / sendonly) and offers without a previous description are unchanged.
 */
import t from 'tap';
import { keepSimulcastInOffer } from '../../../src/media/offerSimulcast.js';

const join = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;
const HEAD = ['v=0', 'o=- 1 2 IN IP4 0.0.0.0', 's=-', 't=0 0', 'a=group:BUNDLE 0 1 2'];
const previous = join(
  ...HEAD,
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=recvonly',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=recvonly',
  'a=rid:q recv',
  'a=rid:h recv',
  'a=rid:f recv',
  'a=simulcast:recv q;h;f',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:2',
);
const offer = join(
  ...HEAD,
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:0',
  'a=recvonly',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:1',
  'a=recvonly',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'a=mid:2',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:3',
  'a=sendonly',
);

t.test('restores the lines on the publisher’s video m-line only', async (t) => {
  const out = keepSimulcastInOffer(offer, previous);
  const video = out.split('\r\nm=')[2]!;
  t.match(
    video,
    /a=mid:1\r\na=recvonly\r\na=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\na=simulcast:recv q;h;f$/,
  );
  t.equal(out.match(/a=simulcast/g)?.length, 1, 'once, nowhere else');
  t.ok(out.endsWith('a=sendonly\r\n'), 'the rest untouched');
  t.equal(keepSimulcastInOffer(out, previous), out, 'idempotent: an offer with the lines is unchanged');
});

t.test('unchanged without a previous description, or with nothing to restore', async (t) => {
  t.equal(keepSimulcastInOffer(offer, undefined), offer);
  t.equal(keepSimulcastInOffer(offer, ''), offer);
  t.equal(keepSimulcastInOffer(offer, offer), offer, 'no simulcast before');
  const stopped = offer.replace('a=mid:1\r\na=recvonly', 'a=mid:1\r\na=inactive');
  t.equal(keepSimulcastInOffer(stopped, previous), stopped, 'not on an inactive m-line');
});
