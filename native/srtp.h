/*
 * SRTP and SRTCP packet transforms (RFC 3711, RFC 7714) over OpenSSL's EVP interface, without N-API:
 * addon.c validates the JavaScript arguments and calls these with pointers that are in bounds.
 *
 * One srtp_key holds the session keys of one direction of one stream kind (SRTP or SRTCP): a keyed
 * EVP_CIPHER_CTX (AES-128-GCM or AES-128-CTR) that is only re-IV'd per packet, and for the CM profile a
 * keyed HMAC-SHA1 EVP_MAC_CTX that is only re-initialised per packet. Nothing is allocated per packet.
 */
#ifndef SFU_SRTP_H
#define SFU_SRTP_H

#include <stddef.h>
#include <stdint.h>

/* DTLS-SRTP protection profile ids (RFC 5764, RFC 7714). */
#define SRTP_PROFILE_AES128_CM_SHA1_80 0x0001
#define SRTP_PROFILE_AEAD_AES_128_GCM 0x0007

#define SRTP_KEY_LEN 16
#define SRTP_CM_SALT_LEN 14
#define SRTP_GCM_SALT_LEN 12
#define SRTP_CM_AUTH_KEY_LEN 20
#define SRTP_CM_TAG_LEN 10
#define SRTP_GCM_TAG_LEN 16
#define SRTP_RTP_MIN_HEADER 12
#define SRTP_RTCP_HEADER 8
#define SRTCP_INDEX_LEN 4
#define SRTCP_MAX_INDEX 0x7fffffffu

/* Results below zero: the packet is not authentic (or too short to be), or OpenSSL failed. */
#define SRTP_AUTH_FAIL (-1)
#define SRTP_CRYPTO_FAIL (-2)

typedef struct srtp_key srtp_key;

/* NULL when the profile is unknown, a length is wrong or OpenSSL fails. For GCM, auth_key is ignored. */
srtp_key *srtp_key_new(int profile, const uint8_t *key, size_t key_len, const uint8_t *salt, size_t salt_len,
                       const uint8_t *auth_key, size_t auth_key_len);
void srtp_key_free(srtp_key *k);
/* The authentication tag length: 16 (GCM) or 10 (HMAC-SHA1-80). */
size_t srtp_key_tag_len(const srtp_key *k);

/*
 * All transforms read `src` and write `out`, which is either `src` itself (in place) or does not overlap it.
 * They return the bytes written to `out`, SRTP_AUTH_FAIL or SRTP_CRYPTO_FAIL. On SRTP_AUTH_FAIL the bytes of
 * `out` that a success would have written are unspecified (GCM writes zeroes over its unauthenticated
 * plaintext).
 */

/* header_len >= 12 bytes of RTP header (SSRC, sequence number read from it), then payload_len bytes. */
long srtp_encrypt_rtp(srtp_key *k, const uint8_t *src, size_t header_len, size_t payload_len, uint32_t roc,
                      uint8_t *out);
/* len bytes of SRTP (header_len of them the header); writes len - tag bytes. */
long srtp_decrypt_rtp(srtp_key *k, const uint8_t *src, size_t len, size_t header_len, uint32_t roc,
                      uint8_t *out);
/* len >= 8 bytes of RTCP, index < 2^31; writes len + 4 + tag bytes (E flag set). */
long srtp_encrypt_rtcp(srtp_key *k, const uint8_t *src, size_t len, uint32_t index, uint8_t *out);
/* len bytes of SRTCP; writes the RTCP (len - 4 - tag bytes), decrypting when the E flag is set. */
long srtp_decrypt_rtcp(srtp_key *k, const uint8_t *src, size_t len, uint8_t *out);

#endif
