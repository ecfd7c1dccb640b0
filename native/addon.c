/*
 * The N-API face of srtp.c: checks every argument (a JavaScript TypeError or RangeError on misuse, never a
 * crash), then runs the transform on the caller's buffers. Each call returns a number and creates no
 * JavaScript object. Exports (src/media/srtp/nativeSrtp.ts is the only caller):
 *   abi                                                             the layout version of this API (1)
 *   createContext(profile, key, salt, authKey)                      an external holding one srtp_key
 *   encryptRtp(ctx, src, srcOffset, headerLength, payloadLength, roc, out, outOffset)   bytes written
 *   decryptRtp(ctx, src, srcOffset, length, headerLength, roc, out, outOffset)          bytes written or -1
 *   encryptRtcp(ctx, src, srcOffset, length, srtcpIndex, out, outOffset)                bytes written
 *   decryptRtcp(ctx, src, srcOffset, length, out, outOffset)                            bytes written or -1
 *   sendBatch(fd, address, port, list, count[, offLen[, gso]])   datagrams sent (udp.c), or a negative errno
 *                                                 when none was; with offLen (Int32Array) datagram i is list[i]'s
 *                                                 bytes [offLen[2i], offLen[2i] + offLen[2i + 1]) (no view per
 *                                                 datagram); with gso true, runs of one length segmented (udp.h)
 *   gsoStats(out)                                 segmented sends: messages, datagrams, refusals (Float64Array)
 *   watchReadable(fd, callback), unwatch(watch), watchPause(watch, paused),
 *   recvBatch(watch, buf, offset, slots, slotSize, meta),
 *   metaAddress(meta, index)                      a socket's datagrams in batches (watch.c)
 *   watchesReadable(watches, count, out)          which watches have a datagram waiting: one poll() (watch.c)
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include <stdint.h>

#include "srtp.h"
#include "napi_util.h"
#include "udp.h"
#include "watch.h"

#define ABI_VERSION 8
/* Packets longer than this are refused (OpenSSL takes int lengths); the TypeScript SRTP has the same bound. */
#define MAX_PACKET 0x40000000u
#define MAX_OFFSET 9007199254740991.0 /* Number.MAX_SAFE_INTEGER */

static const napi_type_tag KEY_TAG = {0x73667573727470ULL, 0x6b65792d76310000ULL};

typedef struct {
  uint8_t *data;
  size_t len;
} bytes;

/* 0 when `v` is a Uint8Array (a Buffer); else throws a TypeError naming `name` and returns -1. */
static int get_bytes(napi_env env, napi_value v, const char *msg, bytes *b) {
  size_t length = 0;
  void *data = NULL;
  if (get_typed(env, v, napi_uint8_array, &data, &length) != 0) {
    throw_type(env, msg);
    return -1;
  }
  b->data = data;
  b->len = length;
  return 0;
}

/* 0 when `v` is an integer in [min, max]; else throws (TypeError: not a number, RangeError) and returns -1. */
static int get_uint(napi_env env, napi_value v, double min, double max, const char *type_msg,
                    const char *range_msg, uint64_t *out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    throw_type(env, type_msg);
    return -1;
  }
  if (!(d >= min && d <= max) || (double)(uint64_t)d != d) {
    throw_range(env, range_msg);
    return -1;
  }
  *out = (uint64_t)d;
  return 0;
}

static int get_key(napi_env env, napi_value v, srtp_key **k) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &KEY_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    throw_type(env, "ctx must be a context made by createContext");
    return -1;
  }
  *k = p;
  return 0;
}

#define ARG_BYTES(i, name, b) get_bytes(env, argv[i], name " must be a Uint8Array", b)
#define ARG_UINT(i, name, min, max, out) \
  get_uint(env, argv[i], min, max, name " must be a number", name " is out of range", out)

/* 0 when out[outOffset, +out_len) fits `out` and either is src[srcOffset, ...) itself or does not overlap it. */
static int check_out(napi_env env, const bytes *src, uint64_t src_off, uint64_t in_len, const bytes *out,
                     uint64_t out_off, uint64_t out_len) {
  if (out_off + out_len > out->len) {
    throw_range(env, "out is too short for the result at outOffset");
    return -1;
  }
  const uint8_t *a = src->data + src_off;
  const uint8_t *b = out->data + out_off;
  if (a != b && a < b + out_len && b < a + in_len) {
    throw_range(env, "out overlaps src at a different offset (in place means the same offset)");
    return -1;
  }
  return 0;
}

static napi_value result(napi_env env, long r) {
  if (r == SRTP_CRYPTO_FAIL) {
    napi_throw_error(env, "ERR_SRTP_CRYPTO", "OpenSSL failed in the SRTP add-on");
    return NULL;
  }
  return number(env, r);
}

static void finalize_key(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  srtp_key_free(data);
}

static napi_value create_context(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  bytes key = {0}, salt = {0}, auth = {0};
  uint64_t profile = 0;
  napi_valuetype auth_type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 3) {
    return throw_type(env, "createContext(profile, key, salt, authKey)");
  }
  if (ARG_UINT(0, "profile", 0, 65535, &profile) || ARG_BYTES(1, "key", &key) || ARG_BYTES(2, "salt", &salt)) {
    return NULL;
  }
  if (argc > 3 && napi_typeof(env, argv[3], &auth_type) == napi_ok && auth_type != napi_undefined &&
      ARG_BYTES(3, "authKey", &auth)) {
    return NULL;
  }
  if (profile != SRTP_PROFILE_AES128_CM_SHA1_80 && profile != SRTP_PROFILE_AEAD_AES_128_GCM) {
    return throw_range(env, "profile must be 1 (AES_CM_128_HMAC_SHA1_80) or 7 (AEAD_AES_128_GCM)");
  }
  const int gcm = profile == SRTP_PROFILE_AEAD_AES_128_GCM;
  if (key.len != SRTP_KEY_LEN || salt.len != (gcm ? SRTP_GCM_SALT_LEN : SRTP_CM_SALT_LEN) ||
      (!gcm && auth.len != SRTP_CM_AUTH_KEY_LEN)) {
    return throw_range(env, "key must be 16 bytes, salt 14 (CM) or 12 (GCM), authKey 20 (CM)");
  }
  srtp_key *k = srtp_key_new((int)profile, key.data, key.len, salt.data, salt.len, auth.data, auth.len);
  if (k == NULL) {
    napi_throw_error(env, "ERR_SRTP_CRYPTO", "OpenSSL could not set up the SRTP key");
    return NULL;
  }
  napi_value ext = NULL;
  if (napi_create_external(env, k, finalize_key, NULL, &ext) != napi_ok) {
    srtp_key_free(k);
    return NULL;
  }
  if (napi_type_tag_object(env, ext, &KEY_TAG) != napi_ok) {
    return NULL;
  }
  return ext;
}

static napi_value encrypt_rtp(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  srtp_key *k = NULL;
  bytes src = {0}, out = {0};
  uint64_t src_off = 0, header_len = 0, payload_len = 0, roc = 0, out_off = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 8) {
    return throw_type(env, "encryptRtp(ctx, src, srcOffset, headerLength, payloadLength, roc, out, outOffset)");
  }
  if (get_key(env, argv[0], &k) || ARG_BYTES(1, "src", &src) ||
      ARG_UINT(2, "srcOffset", 0, MAX_OFFSET, &src_off) ||
      ARG_UINT(3, "headerLength", SRTP_RTP_MIN_HEADER, MAX_PACKET, &header_len) ||
      ARG_UINT(4, "payloadLength", 0, MAX_PACKET, &payload_len) || ARG_UINT(5, "roc", 0, 4294967295.0, &roc) ||
      ARG_BYTES(6, "out", &out) || ARG_UINT(7, "outOffset", 0, MAX_OFFSET, &out_off)) {
    return NULL;
  }
  const uint64_t in_len = header_len + payload_len;
  if (src_off + in_len > src.len) {
    return throw_range(env, "src is too short for headerLength + payloadLength at srcOffset");
  }
  if (check_out(env, &src, src_off, in_len, &out, out_off, in_len + srtp_key_tag_len(k))) {
    return NULL;
  }
  return result(env, srtp_encrypt_rtp(k, src.data + src_off, header_len, payload_len, (uint32_t)roc,
                                      out.data + out_off));
}

static napi_value decrypt_rtp(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  srtp_key *k = NULL;
  bytes src = {0}, out = {0};
  uint64_t src_off = 0, len = 0, header_len = 0, roc = 0, out_off = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 8) {
    return throw_type(env, "decryptRtp(ctx, src, srcOffset, length, headerLength, roc, out, outOffset)");
  }
  if (get_key(env, argv[0], &k) || ARG_BYTES(1, "src", &src) ||
      ARG_UINT(2, "srcOffset", 0, MAX_OFFSET, &src_off) || ARG_UINT(3, "length", 0, MAX_PACKET, &len) ||
      ARG_UINT(4, "headerLength", SRTP_RTP_MIN_HEADER, MAX_PACKET, &header_len) ||
      ARG_UINT(5, "roc", 0, 4294967295.0, &roc) || ARG_BYTES(6, "out", &out) ||
      ARG_UINT(7, "outOffset", 0, MAX_OFFSET, &out_off)) {
    return NULL;
  }
  if (src_off + len > src.len) {
    return throw_range(env, "src is too short for length at srcOffset");
  }
  const size_t tag = srtp_key_tag_len(k);
  if (len < header_len + tag) {
    return number(env, SRTP_AUTH_FAIL);
  }
  if (check_out(env, &src, src_off, len, &out, out_off, len - tag)) {
    return NULL;
  }
  return result(env, srtp_decrypt_rtp(k, src.data + src_off, len, header_len, (uint32_t)roc, out.data + out_off));
}

static napi_value encrypt_rtcp(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  srtp_key *k = NULL;
  bytes src = {0}, out = {0};
  uint64_t src_off = 0, len = 0, index = 0, out_off = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 7) {
    return throw_type(env, "encryptRtcp(ctx, src, srcOffset, length, srtcpIndex, out, outOffset)");
  }
  if (get_key(env, argv[0], &k) || ARG_BYTES(1, "src", &src) ||
      ARG_UINT(2, "srcOffset", 0, MAX_OFFSET, &src_off) ||
      ARG_UINT(3, "length", SRTP_RTCP_HEADER, MAX_PACKET, &len) ||
      ARG_UINT(4, "srtcpIndex", 0, SRTCP_MAX_INDEX, &index) || ARG_BYTES(5, "out", &out) ||
      ARG_UINT(6, "outOffset", 0, MAX_OFFSET, &out_off)) {
    return NULL;
  }
  if (src_off + len > src.len) {
    return throw_range(env, "src is too short for length at srcOffset");
  }
  if (check_out(env, &src, src_off, len, &out, out_off, len + SRTCP_INDEX_LEN + srtp_key_tag_len(k))) {
    return NULL;
  }
  return result(env, srtp_encrypt_rtcp(k, src.data + src_off, len, (uint32_t)index, out.data + out_off));
}

static napi_value decrypt_rtcp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  srtp_key *k = NULL;
  bytes src = {0}, out = {0};
  uint64_t src_off = 0, len = 0, out_off = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    return NULL;
  }
  if (argc < 6) {
    return throw_type(env, "decryptRtcp(ctx, src, srcOffset, length, out, outOffset)");
  }
  if (get_key(env, argv[0], &k) || ARG_BYTES(1, "src", &src) ||
      ARG_UINT(2, "srcOffset", 0, MAX_OFFSET, &src_off) || ARG_UINT(3, "length", 0, MAX_PACKET, &len) ||
      ARG_BYTES(4, "out", &out) || ARG_UINT(5, "outOffset", 0, MAX_OFFSET, &out_off)) {
    return NULL;
  }
  if (src_off + len > src.len) {
    return throw_range(env, "src is too short for length at srcOffset");
  }
  const size_t overhead = SRTCP_INDEX_LEN + srtp_key_tag_len(k);
  if (len < SRTP_RTCP_HEADER + overhead) {
    return number(env, SRTP_AUTH_FAIL);
  }
  if (check_out(env, &src, src_off, len, &out, out_off, len - overhead)) {
    return NULL;
  }
  return result(env, srtp_decrypt_rtcp(k, src.data + src_off, len, out.data + out_off));
}

/* Longest address literal taken (an IPv6 literal is at most 45 characters). */
#define MAX_ADDRESS 64

static napi_value send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5) {
    return throw_type(env, "sendBatch(fd, address, port, list, count[, offLen[, gso]])");
  }
  uint64_t fd = 0;
  uint64_t port = 0;
  uint64_t count = 0;
  if (ARG_UINT(0, "fd", 0, 2147483647.0, &fd) || ARG_UINT(2, "port", 1, 65535, &port)) {
    return NULL;
  }
  char address[MAX_ADDRESS];
  size_t address_len = 0;
  if (napi_get_value_string_utf8(env, argv[1], address, sizeof(address), &address_len) != napi_ok) {
    return throw_type(env, "address must be a string");
  }
  if (address_len >= sizeof(address) - 1) {
    return throw_range(env, "address is too long for an IP literal");
  }
  bool is_array = false;
  uint32_t list_len = 0;
  if (napi_is_array(env, argv[3], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[3], &list_len) != napi_ok) {
    return throw_type(env, "list must be an array of Uint8Array");
  }
  if (ARG_UINT(4, "count", 0, (double)list_len, &count)) {
    return NULL;
  }
  /* offLen: each datagram a slice of its buffer (the same buffer object in a row is read once). */
  const int32_t *off_len = NULL;
  if (argc >= 6) {
    napi_valuetype t = napi_undefined;
    if (napi_typeof(env, argv[5], &t) != napi_ok) {
      return throw_type(env, "offLen must be an Int32Array");
    }
    if (t != napi_undefined) {
      size_t n_off = 0;
      if (get_typed(env, argv[5], napi_int32_array, (void **)&off_len, &n_off) != 0) {
        return throw_type(env, "offLen must be an Int32Array");
      }
      if (n_off / 2 < count) {
        return throw_range(env, "offLen must hold an offset and a length per datagram");
      }
    }
  }
  bool gso = false;
  if (argc >= 7) {
    napi_valuetype t = napi_undefined;
    if (napi_typeof(env, argv[6], &t) != napi_ok || (t != napi_undefined && t != napi_boolean)) {
      return throw_type(env, "gso must be a boolean");
    }
    if (t == napi_boolean && napi_get_value_bool(env, argv[6], &gso) != napi_ok) {
      return throw_type(env, "gso must be a boolean");
    }
  }
  udp_datagram chunk[UDP_BATCH_MAX];
  uint64_t sent = 0;
  napi_value prev = NULL;
  bytes prev_bytes = {NULL, 0};
  while (sent < count) {
    size_t n = 0;
    while (n < UDP_BATCH_MAX && sent + n < count) {
      const uint64_t i = sent + n;
      napi_value item = NULL;
      if (napi_get_element(env, argv[3], (uint32_t)i, &item) != napi_ok) {
        return throw_type(env, "list must be an array of Uint8Array");
      }
      bool same = false;
      if (off_len != NULL && prev != NULL && napi_strict_equals(env, prev, item, &same) != napi_ok) {
        same = false;
      }
      bytes b = prev_bytes;
      if (!same) {
        if (get_bytes(env, item, "list must be an array of Uint8Array", &b)) {
          return NULL;
        }
        prev = item;
        prev_bytes = b;
      }
      if (off_len != NULL) {
        const int32_t off = off_len[2 * i];
        const int32_t len = off_len[2 * i + 1];
        if (off < 0 || len < 0 || (size_t)off + (size_t)len > b.len) {
          return throw_range(env, "a datagram's offset and length must lie within its buffer");
        }
        chunk[n].data = b.data + off;
        chunk[n].len = (size_t)len;
      } else {
        chunk[n].data = b.data;
        chunk[n].len = b.len;
      }
      n++;
    }
    const long r = udp_send_batch((int)fd, address, (int)port, chunk, n, gso ? 1 : 0);
    if (r < 0) {
      return number(env, sent > 0 ? (long)sent : r);
    }
    sent += (uint64_t)r;
    if ((size_t)r < n) {
      break;
    }
  }
  return number(env, (long)sent);
}

/* gsoStats(out): the segmented-send counters (udp.h) into `out` (a Float64Array of 3): messages, datagrams,
 * refusals. */
static napi_value gso_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    return throw_type(env, "gsoStats(out)");
  }
  double *out = NULL;
  size_t n = 0;
  if (get_typed(env, argv[0], napi_float64_array, (void **)&out, &n) != 0 || n < 3) {
    return throw_type(env, "out must be a Float64Array of 3");
  }
  udp_gso_stats s;
  udp_gso_read_stats(&s);
  out[0] = (double)s.messages;
  out[1] = (double)s.datagrams;
  out[2] = (double)s.refused;
  return number(env, 0);
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"createContext", NULL, create_context, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptRtp", NULL, encrypt_rtp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decryptRtp", NULL, decrypt_rtp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encryptRtcp", NULL, encrypt_rtcp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decryptRtcp", NULL, decrypt_rtcp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"sendBatch", NULL, send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchReadable", NULL, watch_readable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"unwatch", NULL, unwatch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchPause", NULL, watch_pause, NULL, NULL, NULL, napi_enumerable, NULL},
      {"recvBatch", NULL, recv_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"metaAddress", NULL, meta_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"watchesReadable", NULL, watches_readable, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gsoStats", NULL, gso_stats, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_value abi = NULL;
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok ||
      napi_create_uint32(env, ABI_VERSION, &abi) != napi_ok ||
      napi_set_named_property(env, exports, "abi", abi) != napi_ok) {
    return NULL;
  }
  return exports;
}
