/**
 * media/srtp against werift's own SRTP (SrtpSession, SrtcpSession), on each implementation and both profiles:
 * from the same master key and salt, our cipher (with RocTracker for the ROC and nextSrtcpIndex for the SRTCP
 * index) writes the bytes werift writes, across a sequence-number wrap (ROC 0 → 1, with a retransmission from
 * before the wrap after it) and across the SRTCP index wrap (2^31 - 1 → 0); werift decrypts ours and we
 * decrypt werift's.
 */
import t from 'tap';
import { RtpHeader, SrtcpSession, SrtpSession } from 'werift';
import { nextSrtcpIndex, RocTracker } from '../../../../src/media/srtp/srtpIndex.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  srtpLengths,
  type SrtpProfile,
} from '../../../../src/media/srtp/srtpProfile.js';
import { IMPLS, prng, randomBytes, randomInt, randomRtcp } from './impls.js';

const PROFILES: SrtpProfile[] = [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM];

/** 65500 … 65535, 0 … 40, with 65530 sent again after 10 (a retransmission from before the wrap). */
function sequence(): number[] {
  const seqs: number[] = [];
  for (let s = 65500; s < 65536 + 41; s++) {
    seqs.push(s & 0xffff);
    if ((s & 0xffff) === 10) {
      seqs.push(65530);
    }
  }
  return seqs;
}

function config(profile: SrtpProfile, key: Buffer, salt: Buffer) {
  return {
    keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
    profile,
  };
}

for (const impl of IMPLS) {
  for (const profile of PROFILES) {
    t.test(
      `${impl.name}, profile ${profile}: SRTP as werift's, across the sequence wrap`,
      { skip: impl.skip },
      async (t) => {
        const rand = prng(0xa11 + profile);
        const key = randomBytes(rand, 16);
        const salt = randomBytes(rand, srtpLengths(profile).salt);
        const werift = new SrtpSession(config(profile, key, salt));
        const ours = impl.make(profile, key, salt);
        const sendRoc = new RocTracker();
        const ssrc = 0x1234_5678;
        const sent: {
          seq: number;
          plain: Buffer;
          headerLength: number;
          theirs: Buffer;
          mine: Buffer;
          roc: number;
        }[] = [];
        sequence().forEach((seq, i) => {
          const header = new RtpHeader({
            payloadType: 96,
            sequenceNumber: seq,
            timestamp: (seq * 960) >>> 0,
            ssrc,
            marker: i % 3 === 0,
            extension: i % 2 === 0,
            extensions:
              i % 2 === 0
                ? [
                    { id: 1, payload: Buffer.from([i & 0xff]) },
                    { id: 3, payload: Buffer.from([1, 2, 3]) },
                  ]
                : [],
          });
          const payload = randomBytes(rand, randomInt(rand, 20, 1200));
          const theirs = werift.encrypt(payload, header);
          const hdr = header.serialize(header.serializeSize);
          const plain = Buffer.concat([hdr, payload]);
          const roc = sendRoc.advance(seq);
          const mine = Buffer.alloc(plain.length + ours.rtpOverhead);
          ours.encryptRtp(plain, 0, hdr.length, payload.length, roc, mine, 0);
          sent.push({ seq, plain, headerLength: hdr.length, theirs, mine, roc });
        });
        t.same(
          sent.map((p) => p.roc).filter((roc, i, all) => i === 0 || roc !== all[i - 1]),
          [0, 1, 0, 1],
          'ROC 0, then 1 after the wrap, 0 for the retransmission, then 1 again',
        );
        t.equal(sendRoc.roc, 1, 'the sender ends at ROC 1');
        t.same(
          sent.filter((p) => !p.mine.equals(p.theirs)).map((p) => p.seq),
          [],
          `all ${sent.length} packets byte-identical to werift's`,
        );

        const receiver = new SrtpSession(config(profile, key, salt));
        t.same(
          sent.filter((p) => !receiver.decrypt(p.mine).equals(p.plain)).map((p) => p.seq),
          [],
          'werift decrypts ours',
        );

        const recvRoc = new RocTracker();
        const failed: number[] = [];
        for (const p of sent) {
          const roc = recvRoc.guess(p.seq);
          const out = Buffer.alloc(p.theirs.length);
          const n = ours.decryptRtp(p.theirs, 0, p.theirs.length, p.headerLength, roc, out, 0);
          if (n === p.plain.length && out.subarray(0, n).equals(p.plain)) {
            recvRoc.commit(p.seq, roc);
          } else {
            failed.push(p.seq);
          }
        }
        t.same(failed, [], "we decrypt werift's, guessing each ROC");
        t.equal(recvRoc.roc, 1, 'the receiver ends at ROC 1');
      },
    );

    t.test(
      `${impl.name}, profile ${profile}: SRTCP as werift's, across the index wrap`,
      { skip: impl.skip },
      async (t) => {
        const rand = prng(0xb22 + profile);
        const key = randomBytes(rand, 16);
        const salt = randomBytes(rand, srtpLengths(profile).salt);
        const werift = new SrtcpSession(config(profile, key, salt));
        const ours = impl.make(profile, key, salt);
        const ssrcs = [0x0a0b_0c0d, 0xfeed_f00d];
        // werift counts from 1 per SSRC; the second SSRC starts just before the 31-bit wrap.
        werift.localContext.setIndex(ssrcs[1]!, 0x7fff_fffd);
        const last = new Map<number, number>([
          [ssrcs[0]!, 0],
          [ssrcs[1]!, 0x7fff_fffd],
        ]);
        const indexes: number[] = [];
        const differ: number[] = [];
        const werDecrypt = new SrtcpSession(config(profile, key, salt));
        const notDecrypted: number[] = [];
        for (let i = 0; i < 40; i++) {
          const ssrc = ssrcs[i % 2]!;
          const rtcp = randomRtcp(rand, randomInt(rand, 8, 300));
          rtcp.writeUInt32BE(ssrc, 4);
          const theirs = werift.encrypt(rtcp);
          const index = nextSrtcpIndex(last.get(ssrc)!);
          last.set(ssrc, index);
          indexes.push(index);
          const mine = Buffer.alloc(rtcp.length + ours.rtcpOverhead);
          ours.encryptRtcp(rtcp, 0, rtcp.length, index, mine, 0);
          if (!mine.equals(theirs)) {
            differ.push(i);
          }
          const back = Buffer.alloc(theirs.length);
          const n = ours.decryptRtcp(theirs, 0, theirs.length, back, 0);
          if (
            n !== rtcp.length ||
            !back.subarray(0, n).equals(rtcp) ||
            !werDecrypt.decrypt(mine).equals(rtcp)
          ) {
            notDecrypted.push(i);
          }
        }
        t.same(
          indexes.slice(0, 8),
          [1, 0x7fff_fffe, 2, 0x7fff_ffff, 3, 0, 4, 1],
          'indexes per SSRC, one wrapping',
        );
        t.same(differ, [], 'all 40 packets byte-identical to werift');
        t.same(notDecrypted, [], "we decrypt werift's and werift decrypts ours");
      },
    );
  }
}
