/**
 * media/srtp/srtpIndex: the ROC estimate of RFC 3711 §3.3.1 as a table (wrap-around rows in both directions,
 * the half-range boundaries, the 32-bit ROC wrap), RocTracker as a sender and as a receiver that commits only
 * authenticated packets, and the SRTCP index: the sender's next index and reading it back from a packet.
 */
import t from 'tap';
import { createSrtpCipher } from '../../../../src/media/srtp/createSrtpCipher.js';
import {
  estimateRoc,
  nextSrtcpIndex,
  RocTracker,
  srtcpIndex,
  srtpPacketIndex,
} from '../../../../src/media/srtp/srtpIndex.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
} from '../../../../src/media/srtp/srtpProfile.js';

t.test('estimateRoc (RFC 3711 Appendix A)', async (t) => {
  // [s_l, ROC, SEQ, expected ROC, why]
  const rows: [number, number, number, number, string][] = [
    [100, 0, 101, 0, 'next packet'],
    [100, 5, 50, 5, 'reordered, same ROC'],
    [65535, 0, 0, 1, 'wrap 65535 → 0'],
    [65500, 3, 10, 4, 'wrap with a gap'],
    [10, 1, 65530, 0, 'late packet from before the wrap'],
    [10, 0, 65530, 0xffff_ffff, 'from before the stream: ROC - 1 mod 2^32'],
    [0x7fff, 2, 0xffff, 2, 'SEQ - s_l = 2^15 exactly: same ROC'],
    [0x7ffe, 2, 0xffff, 1, 'SEQ - s_l = 2^15 + 1: previous ROC'],
    [0x8000, 2, 0, 2, 's_l - 2^15 = SEQ: same ROC'],
    [0x8001, 2, 0, 3, 's_l - 2^15 > SEQ: next ROC'],
    [40000, 7, 7000, 8, 'far behind a high s_l: next ROC'],
    [40000, 7, 7232, 7, 'exactly s_l - 2^15: same ROC'],
    [0xffff, 0xffff_ffff, 0, 0, 'the ROC itself wraps mod 2^32'],
    [0, 0, 0, 0, 'start'],
  ];
  t.same(
    rows.map(([sl, roc, seq]) => estimateRoc(sl, roc, seq)),
    rows.map((r) => r[3]),
    rows.map((r) => r[4]).join('; '),
  );
  t.equal(srtpPacketIndex(1, 5), 65541);
  t.equal(srtpPacketIndex(0xffff_ffff, 0xffff), 2 ** 48 - 1, 'exact at 48 bits');
});

t.test('RocTracker as a sender', async (t) => {
  const roc = new RocTracker();
  // [seq sent, ROC expected]
  const rows: [number, number][] = [
    [65533, 0],
    [65534, 0],
    [65535, 0],
    [0, 1],
    [1, 1],
    [65534, 0], // a retransmission from before the wrap
    [2, 1],
    [1, 1], // reordered
    [20000, 1],
    [40000, 1],
    [65535, 1],
    [3, 2],
  ];
  t.same(
    rows.map(([seq]) => roc.advance(seq)),
    rows.map(([, r]) => r),
  );
  t.equal(roc.roc, 2);
  t.equal(new RocTracker(5).advance(100), 5, 'an initial ROC is used for the first packet');
  t.equal(new RocTracker(0xffff_ffff).advance(65535), 0xffff_ffff);
});

t.test('RocTracker as a receiver: a guess moves nothing until committed', async (t) => {
  const r = new RocTracker();
  t.equal(r.guess(65535), 0, 'the first packet: the initial ROC');
  r.commit(65535, 0);
  t.equal(r.guess(0), 1, 'after 65535, 0 is in the next ROC');
  t.equal(r.roc, 0, 'not committed (say the packet was forged)');
  t.equal(r.guess(65534), 0, 'still ROC 0 for 65534');
  r.commit(0, 1);
  t.equal(r.roc, 1, 'committed');
  t.equal(r.guess(65534), 0, 'a late packet from before the wrap');
  r.commit(65534, 0);
  t.equal(r.roc, 1, 'committing a late packet does not move the ROC back');
  t.equal(r.guess(1), 1);
});

t.test('nextSrtcpIndex: one more, 0 after 2^31 - 1', async (t) => {
  t.same([0, 1, 0x7fff_fffe, 0x7fff_ffff].map(nextSrtcpIndex), [1, 2, 0x7fff_ffff, 0]);
});

t.test('srtcpIndex reads the index (E flag removed) from a packet of either profile', async (t) => {
  const rtcp = Buffer.from('81c80006deadbeef' + '00'.repeat(20), 'hex');
  for (const profile of [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM] as const) {
    const c = createSrtpCipher(profile, Buffer.alloc(16, 9), Buffer.alloc(profile === 1 ? 14 : 12, 3), {
      native: false,
    });
    const out = Buffer.alloc(8 + rtcp.length + c.rtcpOverhead);
    for (const index of [0, 1, 0x5d4, 0x7fff_ffff]) {
      const n = c.encryptRtcp(rtcp, 0, rtcp.length, index, out, 8);
      t.equal(srtcpIndex(profile, out, 8, n), index, `profile ${profile}, index ${index}`);
    }
    t.equal(srtcpIndex(profile, out, 0, 8 + c.rtcpOverhead - 1), -1, `profile ${profile}: too short`);
    t.equal(srtcpIndex(profile, out, 8, out.length), -1, `profile ${profile}: beyond the buffer`);
  }
});
