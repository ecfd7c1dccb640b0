/*
 * SRTP/SRTCP packet transforms for the two profiles werift negotiates (srtp.h):
 *   AEAD_AES_128_GCM (RFC 7714 §8, §9): 12-byte IV = salt XOR (0^16 | SSRC | ROC | SEQ) for RTP and
 *     salt XOR (0^16 | SSRC | 0^16 | index) for RTCP; the RTP header (RTCP: first 8 bytes and the E|index word)
 *     is associated data; 16-byte tag after the ciphertext.
 *   AES_CM_128_HMAC_SHA1_80 (RFC 3711 §4.1.1, §4.2): 16-byte counter = (salt | 0^16) XOR (0^32 | SSRC | index
 *     | 0^16), index = ROC | SEQ for RTP and the SRTCP index for RTCP; the tag is the first 10 bytes of
 *     HMAC-SHA1 over the packet and the ROC (RTP) or over the packet and its E|index word (RTCP).
 */
#include "srtp.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "the SRTP add-on needs OpenSSL 3 (EVP_MAC)"
#endif

struct srtp_key {
  int profile;
  size_t tag_len;
  EVP_CIPHER_CTX *cipher; /* keyed once; each packet only sets its IV */
  EVP_MAC_CTX *mac;       /* CM only: HMAC-SHA1 keyed once; each packet re-initialises it */
  uint8_t salt[SRTP_CM_SALT_LEN];
};

static uint32_t read_be32(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static void write_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void xor_be32(uint8_t *p, uint32_t v) {
  p[0] ^= (uint8_t)(v >> 24);
  p[1] ^= (uint8_t)(v >> 16);
  p[2] ^= (uint8_t)(v >> 8);
  p[3] ^= (uint8_t)v;
}

static void xor_be16(uint8_t *p, uint32_t v) {
  p[0] ^= (uint8_t)(v >> 8);
  p[1] ^= (uint8_t)v;
}

void srtp_key_free(srtp_key *k) {
  if (k == NULL) {
    return;
  }
  EVP_CIPHER_CTX_free(k->cipher);
  EVP_MAC_CTX_free(k->mac);
  OPENSSL_cleanse(k, sizeof(*k));
  free(k);
}

srtp_key *srtp_key_new(int profile, const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *auth_key, size_t auth_key_len) {
  const int gcm = profile == SRTP_PROFILE_AEAD_AES_128_GCM;
  if (!gcm && profile != SRTP_PROFILE_AES128_CM_SHA1_80) {
    return NULL;
  }
  if (key_len != SRTP_KEY_LEN || salt_len != (gcm ? SRTP_GCM_SALT_LEN : SRTP_CM_SALT_LEN) ||
      (!gcm && auth_key_len != SRTP_CM_AUTH_KEY_LEN)) {
    return NULL;
  }
  srtp_key *k = calloc(1, sizeof(*k));
  if (k == NULL) {
    return NULL;
  }
  k->profile = profile;
  k->tag_len = gcm ? SRTP_GCM_TAG_LEN : SRTP_CM_TAG_LEN;
  memcpy(k->salt, salt, salt_len);
  EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, gcm ? "AES-128-GCM" : "AES-128-CTR", NULL);
  k->cipher = EVP_CIPHER_CTX_new();
  int ok = cipher != NULL && k->cipher != NULL && EVP_CipherInit_ex(k->cipher, cipher, NULL, key, NULL, 1) == 1;
  EVP_CIPHER_free(cipher);
  if (ok && !gcm) {
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    k->mac = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    ok = k->mac != NULL && EVP_MAC_init(k->mac, auth_key, auth_key_len, params) == 1;
  }
  if (!ok) {
    srtp_key_free(k);
    return NULL;
  }
  return k;
}

size_t srtp_key_tag_len(const srtp_key *k) {
  return k->tag_len;
}

/*
 * One AES-GCM operation under the IV `iv`: associated data aad1 | aad2, `in` to `out`; encrypting writes the
 * tag to `tag`, decrypting checks it against `tag`. SRTP_AUTH_FAIL when a decryption's tag does not match.
 */
static int gcm(srtp_key *k, const uint8_t *iv, int enc, const uint8_t *aad1, size_t aad1_len,
               const uint8_t *aad2, size_t aad2_len, const uint8_t *in, size_t in_len, uint8_t *out,
               uint8_t *tag) {
  EVP_CIPHER_CTX *c = k->cipher;
  int n = 0;
  if (EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, enc) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, SRTP_GCM_TAG_LEN, tag) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  if ((aad1_len > 0 && EVP_CipherUpdate(c, NULL, &n, aad1, (int)aad1_len) != 1) ||
      (aad2_len > 0 && EVP_CipherUpdate(c, NULL, &n, aad2, (int)aad2_len) != 1)) {
    return SRTP_CRYPTO_FAIL;
  }
  int written = 0;
  if (in_len > 0 && EVP_CipherUpdate(c, out, &written, in, (int)in_len) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  if (EVP_CipherFinal_ex(c, out + written, &n) != 1) {
    return enc ? SRTP_CRYPTO_FAIL : SRTP_AUTH_FAIL;
  }
  if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, SRTP_GCM_TAG_LEN, tag) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  return 0;
}

/* AES-CTR keystream from the counter block `iv` XORed onto `in`, written to `out`. */
static int ctr(srtp_key *k, const uint8_t *iv, const uint8_t *in, size_t len, uint8_t *out) {
  int n = 0;
  if (EVP_CipherInit_ex(k->cipher, NULL, NULL, NULL, iv, 1) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  if (len > 0 && EVP_CipherUpdate(k->cipher, out, &n, in, (int)len) != 1) {
    return SRTP_CRYPTO_FAIL;
  }
  return 0;
}

/* HMAC-SHA1 (the session auth key) over a | b, into the 20 bytes of `mac`. */
static int hmac(srtp_key *k, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t *mac) {
  size_t n = 0;
  if (EVP_MAC_init(k->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(k->mac, a, a_len) != 1 ||
      (b_len > 0 && EVP_MAC_update(k->mac, b, b_len) != 1) || EVP_MAC_final(k->mac, mac, &n, 20) != 1 ||
      n != 20) {
    return SRTP_CRYPTO_FAIL;
  }
  return 0;
}

static void gcm_rtp_iv(const srtp_key *k, uint32_t ssrc, uint32_t roc, uint32_t seq, uint8_t *iv) {
  memcpy(iv, k->salt, SRTP_GCM_SALT_LEN);
  xor_be32(iv + 2, ssrc);
  xor_be32(iv + 6, roc);
  xor_be16(iv + 10, seq);
}

static void gcm_rtcp_iv(const srtp_key *k, uint32_t ssrc, uint32_t index, uint8_t *iv) {
  memcpy(iv, k->salt, SRTP_GCM_SALT_LEN);
  xor_be32(iv + 2, ssrc);
  xor_be32(iv + 8, index);
}

/* The CM counter block for a 48-bit index given as its high 32 and low 16 bits. */
static void cm_iv(const srtp_key *k, uint32_t ssrc, uint32_t index_hi, uint32_t index_lo, uint8_t *iv) {
  memcpy(iv, k->salt, SRTP_CM_SALT_LEN);
  iv[14] = 0;
  iv[15] = 0;
  xor_be32(iv + 4, ssrc);
  xor_be32(iv + 8, index_hi);
  xor_be16(iv + 12, index_lo);
}

static uint32_t rtp_ssrc(const uint8_t *rtp) {
  return read_be32(rtp + 8);
}

static uint32_t rtp_seq(const uint8_t *rtp) {
  return ((uint32_t)rtp[2] << 8) | rtp[3];
}

long srtp_encrypt_rtp(srtp_key *k, const uint8_t *src, size_t header_len, size_t payload_len, uint32_t roc,
                      uint8_t *out) {
  const uint32_t ssrc = rtp_ssrc(src);
  const uint32_t seq = rtp_seq(src);
  const size_t body = header_len + payload_len;
  int r;
  if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM) {
    uint8_t iv[SRTP_GCM_SALT_LEN];
    gcm_rtp_iv(k, ssrc, roc, seq, iv);
    r = gcm(k, iv, 1, src, header_len, NULL, 0, src + header_len, payload_len, out + header_len, out + body);
    memmove(out, src, header_len);
  } else {
    uint8_t iv[16];
    uint8_t mac[20];
    uint8_t roc_be[4];
    cm_iv(k, ssrc, roc, seq, iv);
    r = ctr(k, iv, src + header_len, payload_len, out + header_len);
    memmove(out, src, header_len);
    write_be32(roc_be, roc);
    if (r == 0) {
      r = hmac(k, out, body, roc_be, 4, mac);
      memcpy(out + body, mac, SRTP_CM_TAG_LEN);
    }
  }
  return r < 0 ? r : (long)(body + k->tag_len);
}

long srtp_decrypt_rtp(srtp_key *k, const uint8_t *src, size_t len, size_t header_len, uint32_t roc,
                      uint8_t *out) {
  if (len < header_len + k->tag_len) {
    return SRTP_AUTH_FAIL;
  }
  const uint32_t ssrc = rtp_ssrc(src);
  const uint32_t seq = rtp_seq(src);
  const size_t body = len - k->tag_len;
  int r;
  if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM) {
    uint8_t iv[SRTP_GCM_SALT_LEN];
    uint8_t tag[SRTP_GCM_TAG_LEN];
    memcpy(tag, src + body, SRTP_GCM_TAG_LEN);
    gcm_rtp_iv(k, ssrc, roc, seq, iv);
    r = gcm(k, iv, 0, src, header_len, NULL, 0, src + header_len, body - header_len, out + header_len, tag);
    if (r == SRTP_AUTH_FAIL) {
      OPENSSL_cleanse(out + header_len, body - header_len);
    }
  } else {
    uint8_t iv[16];
    uint8_t mac[20];
    uint8_t roc_be[4];
    write_be32(roc_be, roc);
    r = hmac(k, src, body, roc_be, 4, mac);
    if (r == 0 && CRYPTO_memcmp(mac, src + body, SRTP_CM_TAG_LEN) != 0) {
      r = SRTP_AUTH_FAIL;
    }
    if (r == 0) {
      cm_iv(k, ssrc, roc, seq, iv);
      r = ctr(k, iv, src + header_len, body - header_len, out + header_len);
    }
  }
  if (r < 0) {
    return r;
  }
  memmove(out, src, header_len);
  return (long)body;
}

long srtp_encrypt_rtcp(srtp_key *k, const uint8_t *src, size_t len, uint32_t index, uint8_t *out) {
  const uint32_t ssrc = read_be32(src + 4);
  uint8_t trailer[SRTCP_INDEX_LEN];
  write_be32(trailer, index | 0x80000000u);
  int r;
  if (k->profile == SRTP_PROFILE_AEAD_AES_128_GCM) {
    uint8_t iv[SRTP_GCM_SALT_LEN];
    gcm_rtcp_iv(k, ssrc, index, iv);
    r = gcm(k, iv, 1, src, SRTP_RTCP_HEADER, trailer, SRTCP_INDEX_LEN, src + SRTP_RTCP_HEADER,
            len - SRTP_RTCP_HEADER, out + SRTP_RTCP_HEADER, out + len);
    memmove(out, src, SRTP_RTCP_HEADER);
    memcpy(out + len + SRTP_GCM_TAG_LEN, trailer, SRTCP_INDEX_LEN);
  } else {
    uint8_t iv[16];
    uint8_t mac[20];
    cm_iv(k, ssrc, index >> 16, index & 0xffff, iv);
    r = ctr(k, iv, src + SRTP_RTCP_HEADER, len - SRTP_RTCP_HEADER, out + SRTP_RTCP_HEADER);
    memmove(out, src, SRTP_RTCP_HEADER);
    memcpy(out + len, trailer, SRTCP_INDEX_LEN);
    if (r == 0) {
      r = hmac(k, out, len + SRTCP_INDEX_LEN, NULL, 0, mac);
      memcpy(out + len + SRTCP_INDEX_LEN, mac, SRTP_CM_TAG_LEN);
    }
  }
  return r < 0 ? r : (long)(len + SRTCP_INDEX_LEN + k->tag_len);
}

long srtp_decrypt_rtcp(srtp_key *k, const uint8_t *src, size_t len, uint8_t *out) {
  if (len < SRTP_RTCP_HEADER + SRTCP_INDEX_LEN + k->tag_len) {
    return SRTP_AUTH_FAIL;
  }
  const uint32_t ssrc = read_be32(src + 4);
  const int gcm_profile = k->profile == SRTP_PROFILE_AEAD_AES_128_GCM;
  /* GCM: RTCP | tag | E|index; CM: RTCP | E|index | tag. */
  const size_t trailer_at = gcm_profile ? len - SRTCP_INDEX_LEN : len - SRTP_CM_TAG_LEN - SRTCP_INDEX_LEN;
  const size_t plain = len - SRTCP_INDEX_LEN - k->tag_len;
  const uint32_t word = read_be32(src + trailer_at);
  const int encrypted = (word >> 31) != 0;
  const uint32_t index = word & SRTCP_MAX_INDEX;
  const size_t copied = encrypted ? SRTP_RTCP_HEADER : plain;
  int r;
  if (gcm_profile) {
    uint8_t iv[SRTP_GCM_SALT_LEN];
    uint8_t tag[SRTP_GCM_TAG_LEN];
    uint8_t trailer[SRTCP_INDEX_LEN];
    memcpy(tag, src + plain, SRTP_GCM_TAG_LEN);
    memcpy(trailer, src + trailer_at, SRTCP_INDEX_LEN);
    gcm_rtcp_iv(k, ssrc, index, iv);
    /* E clear (RFC 7714 §17.3): nothing is encrypted, the whole packet is associated data. */
    r = gcm(k, iv, 0, src, copied, trailer, SRTCP_INDEX_LEN, src + copied, plain - copied, out + copied, tag);
    if (r == SRTP_AUTH_FAIL) {
      OPENSSL_cleanse(out + copied, plain - copied);
    }
  } else {
    uint8_t iv[16];
    uint8_t mac[20];
    const size_t authenticated = len - SRTP_CM_TAG_LEN;
    r = hmac(k, src, authenticated, NULL, 0, mac);
    if (r == 0 && CRYPTO_memcmp(mac, src + authenticated, SRTP_CM_TAG_LEN) != 0) {
      r = SRTP_AUTH_FAIL;
    }
    if (r == 0 && encrypted) {
      cm_iv(k, ssrc, index >> 16, index & 0xffff, iv);
      r = ctr(k, iv, src + SRTP_RTCP_HEADER, plain - SRTP_RTCP_HEADER, out + SRTP_RTCP_HEADER);
    }
  }
  if (r < 0) {
    return r;
  }
  memmove(out, src, copied);
  return (long)plain;
}
