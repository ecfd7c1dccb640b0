/*
 * The argument helpers both N-API files use (addon.c, watch.c): Node's error codes for a wrong type or range,
 * a number result, a typed array of one element type.
 */
#ifndef SFU_NAPI_UTIL_H
#define SFU_NAPI_UTIL_H

#define NAPI_VERSION 8
#include <node_api.h>

#include <stddef.h>
#include <stdint.h>

static inline napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static inline napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

static inline napi_value number(napi_env env, long v) {
  napi_value r = NULL;
  if (v >= INT32_MIN && v <= INT32_MAX) {
    napi_create_int32(env, (int32_t)v, &r); /* a small integer directly (no double conversion, per packet) */
  } else {
    napi_create_int64(env, (int64_t)v, &r);
  }
  return r;
}

/* 0 when `v` is a typed array of `type`, its data and element count stored; else -1 (nothing thrown). */
static inline int get_typed(napi_env env, napi_value v, napi_typedarray_type type, void **data, size_t *len) {
  napi_typedarray_type t;
  if (napi_get_typedarray_info(env, v, &t, len, data, NULL, NULL) != napi_ok || t != type) {
    return -1;
  }
  return 0;
}

#endif
