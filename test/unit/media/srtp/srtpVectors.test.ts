/**
 * media/srtp: published test vectors, on each implementation (native add-on and TypeScript).
 * RFC 3711 Appendix B.2 — the AES-CM keystream (SSRC, ROC and SEQ zero, so the counter is the salt): the
 * ciphertext of a zero payload is the keystream, checked at blocks 0–2 and 0xFEFF–0xFF01 of a 1,044,512-byte
 * payload. RFC 7714 §16.1 (SRTP) and §17.1 (SRTCP) for AEAD_AES_128_GCM with the 128-bit key, both ways, and
 * §17.3's authenticated-only SRTCP (E flag clear) on decryption.
 */
import t from 'tap';
import { srtcpIndex } from '../../../../src/media/srtp/srtpIndex.js';
import type { SrtpSessionKeys } from '../../../../src/media/srtp/srtpKeys.js';
import {
  SRTP_AEAD_AES_128_GCM,
  SRTP_AES128_CM_HMAC_SHA1_80,
} from '../../../../src/media/srtp/srtpProfile.js';
import { hex, IMPLS } from './impls.js';

const B2: SrtpSessionKeys = {
  key: hex('2B7E151628AED2A6ABF7158809CF4F3C'),
  salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'),
  authKey: Buffer.alloc(20, 1),
};
const B2_BLOCKS: [number, string][] = [
  [0x0000, 'E03EAD0935C95E80E166B16DD92B4EB4'],
  [0x0001, 'D23513162B02D0F72A43A2FE4A5F97AB'],
  [0x0002, '41E95B3BB0A2E8DD477901E4FCA894C0'],
  [0xfeff, 'EC8CDF7398607CB0F2D21675EA9EA1E4'],
  [0xff00, '362B7C3C6773516318A077D7FC5073AE'],
  [0xff01, '6A2CC3787889374FBEB4C81B17BA6C44'],
];

const GCM: SrtpSessionKeys = {
  key: hex('000102030405060708090a0b0c0d0e0f'),
  salt: hex('517569642070726f2071756f'), // "Quid pro quo"
  authKey: Buffer.alloc(0),
};
// RFC 7714 §16: header 8040f17b 8041f8d3 5501a0b2 (SEQ 0xf17b, SSRC 0x5501a0b2), payload "Gallia est omnis divisa in partes tres".
const RTP = Buffer.concat([
  hex('8040f17b8041f8d35501a0b2'),
  Buffer.from('Gallia est omnis divisa in partes tres'),
]);
const SRTP_16_1 = hex(
  `8040f17b8041f8d35501a0b2 f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833
   899d7f27beb16a9152cf765ee4390cce`,
);
// RFC 7714 §17.1–17.3 operate on this sender report (SSRC "Mars") with SRTCP index 0x5d4.
const RTCP = hex(
  '81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef',
);
const SRTCP_17_1 = hex(
  `81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d
   2fc5abf87245d9eade 800005d4`,
);
const SRTCP_17_3 = Buffer.concat([RTCP, hex('841dd9683dd78ec92ae58790125f62b3 000005d4')]);
const INDEX = 0x5d4;

for (const impl of IMPLS) {
  t.test(`${impl.name}: RFC 3711 B.2 AES-CM keystream`, { skip: impl.skip }, async (t) => {
    const c = impl.fromKeys(SRTP_AES128_CM_HMAC_SHA1_80, { rtp: B2, rtcp: B2 });
    const payload = 0xff02 * 16;
    const src = Buffer.concat([hex('800000000000000000000000'), Buffer.alloc(payload)]);
    const out = Buffer.alloc(src.length + c.rtpOverhead);
    t.equal(
      c.encryptRtp(src, 0, 12, payload, 0, out, 0),
      12 + payload + 10,
      'header + payload + 10-byte tag',
    );
    t.same(
      B2_BLOCKS.map(([i]) => out.subarray(12 + i * 16, 12 + i * 16 + 16).toString('hex')),
      B2_BLOCKS.map(([, k]) => k.toLowerCase()),
      'the keystream blocks of the RFC',
    );
  });

  t.test(`${impl.name}: RFC 7714 §16.1 SRTP AEAD_AES_128_GCM`, { skip: impl.skip }, async (t) => {
    const c = impl.fromKeys(SRTP_AEAD_AES_128_GCM, { rtp: GCM, rtcp: GCM });
    const out = Buffer.alloc(100);
    const n = c.encryptRtp(RTP, 0, 12, RTP.length - 12, 0, out, 0);
    t.equal(out.subarray(0, n).toString('hex'), SRTP_16_1.toString('hex'), 'encrypted as RFC 7714 §16.1.1');
    const back = Buffer.alloc(100);
    t.equal(
      c.decryptRtp(SRTP_16_1, 0, SRTP_16_1.length, 12, 0, back, 0),
      RTP.length,
      'decrypted (RFC 7714 §16.1.2)',
    );
    t.same(back.subarray(0, RTP.length), RTP, 'to the RFC plaintext');
    t.equal(
      c.decryptRtp(SRTP_16_1, 0, SRTP_16_1.length, 12, 1, back, 0),
      -1,
      'with ROC 1 the IV differs: -1',
    );
  });

  t.test(`${impl.name}: RFC 7714 §17.1 SRTCP AEAD_AES_128_GCM`, { skip: impl.skip }, async (t) => {
    const c = impl.fromKeys(SRTP_AEAD_AES_128_GCM, { rtp: GCM, rtcp: GCM });
    const out = Buffer.alloc(100);
    const n = c.encryptRtcp(RTCP, 0, RTCP.length, INDEX, out, 0);
    t.equal(out.subarray(0, n).toString('hex'), SRTCP_17_1.toString('hex'), 'encrypted as RFC 7714 §17.1');
    t.equal(srtcpIndex(SRTP_AEAD_AES_128_GCM, out, 0, n), INDEX, 'the index read back from the packet');
    const back = Buffer.alloc(100);
    t.equal(c.decryptRtcp(SRTCP_17_1, 0, SRTCP_17_1.length, back, 0), RTCP.length, 'decrypted');
    t.same(back.subarray(0, RTCP.length), RTCP, 'to the RFC plaintext');
  });

  t.test(
    `${impl.name}: RFC 7714 §17.3 authenticated-only SRTCP (E clear)`,
    { skip: impl.skip },
    async (t) => {
      const c = impl.fromKeys(SRTP_AEAD_AES_128_GCM, { rtp: GCM, rtcp: GCM });
      const back = Buffer.alloc(100);
      t.equal(c.decryptRtcp(SRTCP_17_3, 0, SRTCP_17_3.length, back, 0), RTCP.length, 'accepted');
      t.same(back.subarray(0, RTCP.length), RTCP, 'the packet as it was sent');
      const forged = Buffer.from(SRTCP_17_3);
      forged[20] = forged[20]! ^ 0x01;
      t.equal(c.decryptRtcp(forged, 0, forged.length, back, 0), -1, 'a changed clear byte is rejected');
    },
  );
}
