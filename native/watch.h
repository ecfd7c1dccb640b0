/*
 * Readable events of a UDP socket libuv owns, on a duplicate of its fd (the socket's own libuv handle keeps its
 * fd and its sends; node:dgram's reading is stopped by the caller), and batched receives from it (udp.c).
 */
#ifndef SFU_WATCH_H
#define SFU_WATCH_H

#define NAPI_VERSION 8
#include <node_api.h>

/* watchReadable(fd, callback): an external; callback(status) runs (as a MakeCallback: the microtasks it queued
 * run when it returns) each time the socket is readable (status 0) or polling failed (a negative libuv error:
 * the watch stops itself); while it returns true it is called again at once (at most 64 times an event). */
napi_value watch_readable(napi_env env, napi_callback_info info);
/* unwatch(watch): stops the events and closes the duplicate fd (idempotent). */
napi_value unwatch(napi_env env, napi_callback_info info);
/* watchPause(watch, paused): stops (true) or restarts (false) the readable events, the fd kept open for
 * recvBatch; false when the watch was stopped or libuv refused. */
napi_value watch_pause(napi_env env, napi_callback_info info);
/* recvBatch(watch, buf, offset, slots, slotSize, meta): datagrams received (0: none waiting), or -errno. */
napi_value recv_batch(napi_env env, napi_callback_info info);
/* watchesReadable(watches, count, out): one poll() (no wait) of the first `count` watches' fds: out[i] is 1 when
 * watch i has a datagram waiting (or an error to read), else 0 (a stopped watch: 0); how many are, or -errno. */
napi_value watches_readable(napi_env env, napi_callback_info info);
/* metaAddress(meta, index): the address of received datagram `index` as text, or undefined. */
napi_value meta_address(napi_env env, napi_callback_info info);

#endif
