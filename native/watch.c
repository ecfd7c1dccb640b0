/* See watch.h. */
#define _GNU_SOURCE
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "napi_util.h"
#include "udp.h"

static const napi_type_tag WATCH_TAG = {0x73667577617463ULL, 0x682d763100000000ULL};

typedef struct {
  uv_poll_t poll;
  int fd;             /* the duplicate; -1 once closed */
  bool stopped;       /* unwatch ran (or polling failed): no more callbacks */
  bool closing;       /* uv_close was called; the struct lives until both its close callback and finalizer ran */
  bool closed;        /* the close callback ran */
  bool finalized;     /* the external was collected */
  napi_env env;
  napi_ref callback;
  napi_async_context async;
} watch;

static void release(watch *w) {
  if (w->closed && w->finalized) {
    free(w);
  }
}

static void on_close(uv_handle_t *h) {
  watch *w = (watch *)h->data;
  if (w->fd >= 0) {
    close(w->fd);
    w->fd = -1;
  }
  w->closed = true;
  release(w);
}

static void stop(watch *w) {
  if (w->stopped) {
    return;
  }
  w->stopped = true;
  uv_poll_stop(&w->poll);
  if (w->callback != NULL) {
    napi_delete_reference(w->env, w->callback);
    w->callback = NULL;
  }
  if (w->async != NULL) {
    napi_async_destroy(w->env, w->async);
    w->async = NULL;
  }
  if (!w->closing) {
    w->closing = true;
    uv_close((uv_handle_t *)&w->poll, on_close);
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  watch *w = data;
  stop(w); /* collected while still watching: the fd must not stay open */
  w->finalized = true;
  release(w);
}

/* Calls per readable event at most while the callback asks to be called again (each after a microtask checkpoint). */
#define MAX_CALLS_PER_EVENT 64

static void on_poll(uv_poll_t *h, int status, int events) {
  (void)events;
  watch *w = (watch *)h->data;
  for (int call = 0; call < MAX_CALLS_PER_EVENT && !w->stopped; call++) {
    napi_env env = w->env;
    napi_handle_scope scope = NULL;
    if (napi_open_handle_scope(env, &scope) != napi_ok) {
      return;
    }
    bool again = false;
    napi_value cb = NULL;
    napi_value recv = NULL;
    napi_value arg = number(env, status);
    if (napi_get_reference_value(env, w->callback, &cb) == napi_ok && cb != NULL &&
        napi_get_global(env, &recv) == napi_ok) {
      napi_value result = NULL;
      const napi_status st = napi_make_callback(env, w->async, recv, cb, 1, &arg, &result);
      if (st == napi_pending_exception) {
        napi_value e = NULL;
        if (napi_get_and_clear_last_exception(env, &e) == napi_ok) {
          napi_fatal_exception(env, e); /* as any throwing callback: the process's uncaughtException */
        }
      } else if (st == napi_ok && result != NULL && napi_get_value_bool(env, result, &again) != napi_ok) {
        again = false;
      }
    }
    napi_close_handle_scope(env, scope);
    if (status < 0) {
      stop(w);
    }
    if (!again || status < 0) {
      return;
    }
  }
}

napi_value watch_readable(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    return throw_type(env, "watchReadable(fd, callback)");
  }
  int32_t fd = -1;
  napi_valuetype t = napi_undefined;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    return throw_type(env, "fd must be a file descriptor");
  }
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    return throw_type(env, "callback must be a function");
  }
  uv_loop_t *loop = NULL;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) {
    napi_throw_error(env, "ERR_NATIVE_WATCH", "no event loop");
    return NULL;
  }
  const int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) {
    return throw_range(env, "fd cannot be duplicated (not open)");
  }
  watch *w = calloc(1, sizeof(*w));
  if (w == NULL) {
    close(dup_fd);
    napi_throw_error(env, "ERR_NATIVE_WATCH", "out of memory");
    return NULL;
  }
  w->fd = dup_fd;
  w->env = env;
  (void)udp_stamp_arrivals(dup_fd); /* without it every datagram's wait reads -1 (unknown) */
  napi_value name = NULL;
  napi_value ext = NULL;
  if (uv_poll_init(loop, &w->poll, dup_fd) != 0) {
    close(dup_fd);
    free(w);
    return throw_range(env, "fd cannot be polled");
  }
  w->poll.data = w;
  if (napi_create_string_utf8(env, "SfuUdpReceive", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &w->async) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &w->callback) != napi_ok ||
      napi_create_external(env, w, finalize, NULL, &ext) != napi_ok ||
      napi_type_tag_object(env, ext, &WATCH_TAG) != napi_ok) {
    w->finalized = ext == NULL; /* no external: nothing will finalize it */
    stop(w);
    return NULL;
  }
  if (uv_poll_start(&w->poll, UV_READABLE, on_poll) != 0) {
    stop(w);
    return throw_range(env, "fd cannot be polled");
  }
  return ext;
}

static watch *get_watch(napi_env env, napi_value v) {
  bool ok = false;
  void *p = NULL;
  if (napi_check_object_type_tag(env, v, &WATCH_TAG, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    throw_type(env, "watch must be made by watchReadable");
    return NULL;
  }
  return p;
}

napi_value unwatch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) {
    return throw_type(env, "unwatch(watch)");
  }
  watch *w = get_watch(env, argv[0]);
  if (w == NULL) {
    return NULL;
  }
  stop(w);
  return NULL;
}

napi_value watch_pause(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    return throw_type(env, "watchPause(watch, paused)");
  }
  watch *w = get_watch(env, argv[0]);
  if (w == NULL) {
    return NULL;
  }
  bool paused = false;
  if (napi_get_value_bool(env, argv[1], &paused) != napi_ok) {
    return throw_type(env, "paused must be a boolean");
  }
  bool ok = false;
  if (!w->stopped) {
    ok = (paused ? uv_poll_stop(&w->poll) : uv_poll_start(&w->poll, UV_READABLE, on_poll)) == 0;
  }
  napi_value result = NULL;
  napi_get_boolean(env, ok, &result);
  return result;
}

napi_value recv_batch(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6) {
    return throw_type(env, "recvBatch(watch, buf, offset, slots, slotSize, meta)");
  }
  watch *w = get_watch(env, argv[0]);
  if (w == NULL) {
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t buf_len = 0;
  int32_t *meta = NULL;
  size_t meta_len = 0;
  uint32_t off = 0;
  uint32_t slots = 0;
  uint32_t slot_size = 0;
  if (get_typed(env, argv[1], napi_uint8_array, (void **)&buf, &buf_len) != 0) {
    return throw_type(env, "buf must be a Uint8Array");
  }
  if (get_typed(env, argv[5], napi_int32_array, (void **)&meta, &meta_len) != 0) {
    return throw_type(env, "meta must be an Int32Array");
  }
  if (napi_get_value_uint32(env, argv[2], &off) != napi_ok || napi_get_value_uint32(env, argv[3], &slots) != napi_ok ||
      napi_get_value_uint32(env, argv[4], &slot_size) != napi_ok) {
    return throw_type(env, "offset, slots and slotSize must be numbers");
  }
  if (slots == 0 || slots > UDP_BATCH_MAX || slot_size == 0 || slot_size > 65536) {
    return throw_range(env, "slots must be 1-64 and slotSize 1-65536");
  }
  if ((uint64_t)off + (uint64_t)slots * slot_size > buf_len) {
    return throw_range(env, "buf is too short for slots at offset");
  }
  if ((uint64_t)slots * UDP_RECV_META_WORDS > meta_len) {
    return throw_range(env, "meta is too short for slots");
  }
  if (w->stopped || w->fd < 0) {
    return number(env, -EBADF);
  }
  return number(env, udp_recv_batch(w->fd, buf + off, slots, slot_size, meta));
}

napi_value meta_address(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    return throw_type(env, "metaAddress(meta, index)");
  }
  int32_t *meta = NULL;
  size_t meta_len = 0;
  uint32_t index = 0;
  if (get_typed(env, argv[0], napi_int32_array, (void **)&meta, &meta_len) != 0 || napi_get_value_uint32(env, argv[1], &index) != napi_ok) {
    return throw_type(env, "meta must be an Int32Array and index a number");
  }
  if (((uint64_t)index + 1) * UDP_RECV_META_WORDS > meta_len) {
    return throw_range(env, "index is past meta's end");
  }
  char text[64];
  const size_t n = udp_meta_address(meta + (size_t)index * UDP_RECV_META_WORDS, text, sizeof(text));
  napi_value r = NULL;
  if (n == 0) {
    napi_get_undefined(env, &r);
  } else {
    napi_create_string_latin1(env, text, n, &r);
  }
  return r;
}

/* Watches one poll() covers at most (a longer list is refused). */
#define MAX_POLLED 65536
/* pollfds on the stack up to this many; more are allocated for the call. */
#define POLL_ON_STACK 128

napi_value watches_readable(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    return throw_type(env, "watchesReadable(watches, count, out)");
  }
  bool is_array = false;
  uint32_t count = 0;
  uint32_t length = 0;
  uint8_t *out = NULL;
  size_t out_len = 0;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &length) != napi_ok) {
    return throw_type(env, "watches must be an array");
  }
  if (napi_get_value_uint32(env, argv[1], &count) != napi_ok) {
    return throw_type(env, "count must be a number");
  }
  if (get_typed(env, argv[2], napi_uint8_array, (void **)&out, &out_len) != 0) {
    return throw_type(env, "out must be a Uint8Array");
  }
  if (count > length || count > out_len || count > MAX_POLLED) {
    return throw_range(env, "count must be at most the watches' and out's length (and 65536)");
  }
  struct pollfd on_stack[POLL_ON_STACK];
  struct pollfd *fds = count <= POLL_ON_STACK ? on_stack : malloc(sizeof(struct pollfd) * count);
  if (fds == NULL) {
    napi_throw_error(env, "ERR_NATIVE_WATCH", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value v = NULL;
    if (napi_get_element(env, argv[0], i, &v) != napi_ok) {
      if (fds != on_stack) {
        free(fds);
      }
      return NULL;
    }
    watch *w = get_watch(env, v);
    if (w == NULL) {
      if (fds != on_stack) {
        free(fds);
      }
      return NULL; /* get_watch threw */
    }
    fds[i].fd = w->stopped ? -1 : w->fd; /* poll() skips a negative fd (revents 0) */
    fds[i].events = POLLIN;
    fds[i].revents = 0;
  }
  int r = 0;
  int err = 0;
  do {
    r = count == 0 ? 0 : poll(fds, count, 0);
    err = r < 0 ? errno : 0;
  } while (r < 0 && err == EINTR);
  long ready = 0;
  for (uint32_t i = 0; i < count; i++) {
    /* An error or hangup counts as readable: recvBatch then reports it. */
    out[i] = r > 0 && (fds[i].revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) != 0 ? 1 : 0;
    ready += out[i];
  }
  if (fds != on_stack) {
    free(fds);
  }
  return number(env, r < 0 ? -err : ready);
}
