/**
 * media/srtp/srtpKeys: the RFC 3711 §4.3 key derivation. RFC 3711 Appendix B.3's vectors (cipher key, salt
 * and the 94-byte authentication key stream of label 1), the SRTCP labels 3–5 from the same master key (the
 * values libsrtp-compatible stacks pin), and werift's own Context for random master keys of both profiles.
 */
import t from 'tap';
import { SrtpSession } from 'werift';
import { deriveSrtpKeys, SrtpKeyError, srtpPrf, SRTP_LABEL } from '../../../../src/media/srtp/srtpKeys.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
  type SrtpProfile,
} from '../../../../src/media/srtp/srtpProfile.js';
import { hex, prng, randomBytes } from './impls.js';

const B3_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const B3_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

t.test('RFC 3711 B.3: cipher key, cipher salt and the auth key stream', async (t) => {
  t.equal(srtpPrf(B3_KEY, B3_SALT, 0, 16).toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087', 'label 0');
  t.equal(srtpPrf(B3_KEY, B3_SALT, 2, 14).toString('hex'), '30cbbc08863d8c85d49db34a9ae1', 'label 2');
  t.equal(
    srtpPrf(B3_KEY, B3_SALT, 1, 94).toString('hex'),
    hex(
      `CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE E049646C43D9327AD175578EF7227098
       6371C10C9A369AC2F94A8C5FBCDDDC25 6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2`,
    ).toString('hex'),
    'label 1, 94 bytes (six AES blocks)',
  );
});

t.test('deriveSrtpKeys: the B.3 master key gives the B.3 SRTP keys and the known SRTCP keys', async (t) => {
  const k = deriveSrtpKeys(SRTP_AES128_CM_HMAC_SHA1_80, B3_KEY, B3_SALT);
  t.same(
    {
      rtp: [k.rtp.key, k.rtp.salt, k.rtp.authKey].map((b) => b.toString('hex')),
      rtcp: [k.rtcp.key, k.rtcp.salt, k.rtcp.authKey].map((b) => b.toString('hex')),
    },
    {
      rtp: [
        'c61e7a93744f39ee10734afe3ff7a087',
        '30cbbc08863d8c85d49db34a9ae1',
        'cebe321f6ff7716b6fd4ab49af256a156d38baa4',
      ],
      rtcp: [
        '4c1aa45a81f73d61c800bbb00fbb1eaa',
        '9581c7ad87b3e530bf3e4454a8b3',
        '8d54534feb49ae8e7993a6bd0b844fc323a93dfd',
      ],
    },
  );
  t.same(SRTP_LABEL, { rtpKey: 0, rtpAuthKey: 1, rtpSalt: 2, rtcpKey: 3, rtcpAuthKey: 4, rtcpSalt: 5 });
});

t.test('GCM: 12-byte salts, no auth key', async (t) => {
  const k = deriveSrtpKeys(SRTP_AEAD_AES_128_GCM, B3_KEY, B3_SALT.subarray(0, 12));
  t.same([k.rtp.key.length, k.rtp.salt.length, k.rtp.authKey.length], [16, 12, 0]);
  t.same([k.rtcp.key.length, k.rtcp.salt.length, k.rtcp.authKey.length], [16, 12, 0]);
  // The 12-byte master salt is the 14-byte one with its last two bytes zero.
  const padded = Buffer.concat([B3_SALT.subarray(0, 12), Buffer.alloc(2)]);
  t.same(k.rtp.key, srtpPrf(B3_KEY, padded, 0, 16), 'same as the PRF over the zero-padded salt');
});

for (const profile of [SRTP_AES128_CM_HMAC_SHA1_80, SRTP_AEAD_AES_128_GCM] as SrtpProfile[]) {
  t.test(
    `profile ${profile}: the same session keys as werift's Context, 50 random master keys`,
    async (t) => {
      const rand = prng(0x5eed + profile);
      const saltLength = profile === SRTP_AEAD_AES_128_GCM ? 12 : 14;
      const mismatches: string[] = [];
      for (let i = 0; i < 50; i++) {
        const key = randomBytes(rand, 16);
        const salt = randomBytes(rand, saltLength);
        const ours = deriveSrtpKeys(profile, key, salt);
        const w = new SrtpSession({
          keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
          profile,
        }).localContext;
        const cm = profile === SRTP_AES128_CM_HMAC_SHA1_80;
        // werift derives an auth key for GCM too, which GCM does not use: compared for CM only.
        const theirs = [
          w.srtpSessionKey,
          w.srtpSessionSalt.subarray(0, saltLength),
          ...(cm ? [w.srtpSessionAuthTag] : []),
          w.srtcpSessionKey,
          w.srtcpSessionSalt.subarray(0, saltLength),
          ...(cm ? [w.srtcpSessionAuthTag] : []),
        ];
        const mine = [
          ours.rtp.key,
          ours.rtp.salt,
          ...(cm ? [ours.rtp.authKey] : []),
          ours.rtcp.key,
          ours.rtcp.salt,
          ...(cm ? [ours.rtcp.authKey] : []),
        ];
        if (Buffer.concat(mine).toString('hex') !== Buffer.concat(theirs).toString('hex')) {
          mismatches.push(key.toString('hex'));
        }
      }
      t.same(mismatches, [], 'no master key derives differently');
    },
  );
}

t.test('wrong lengths are a SrtpKeyError', async (t) => {
  t.throws(
    () => deriveSrtpKeys(SRTP_AES128_CM_HMAC_SHA1_80, Buffer.alloc(15), Buffer.alloc(14)),
    SrtpKeyError,
  );
  t.throws(
    () => deriveSrtpKeys(SRTP_AES128_CM_HMAC_SHA1_80, Buffer.alloc(16), Buffer.alloc(12)),
    SrtpKeyError,
  );
  t.throws(() => deriveSrtpKeys(SRTP_AEAD_AES_128_GCM, Buffer.alloc(16), Buffer.alloc(14)), SrtpKeyError);
  t.throws(() => srtpPrf(Buffer.alloc(16), Buffer.alloc(15), 0, 16), SrtpKeyError);
  t.throws(() => srtpPrf(Buffer.alloc(16), Buffer.alloc(14), 256, 16), SrtpKeyError);
  t.throws(() => deriveSrtpKeys(SRTP_AEAD_AES_128_GCM, Buffer.alloc(16), Buffer.alloc(14)), {
    name: 'SrtpKeyError',
  });
});
