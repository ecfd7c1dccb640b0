/* See udp.h. */
#define _GNU_SOURCE
#include "udp.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/udp.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/* Fills `sa` from a numeric address; its length, or 0 when `address` is not an IPv4 or IPv6 literal. */
static socklen_t parse_address(const char *address, int port, struct sockaddr_storage *sa) {
  memset(sa, 0, sizeof(*sa));
  struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
  if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    return sizeof(*v4);
  }
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
  if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    return sizeof(*v6);
  }
  return 0;
}

/* Fds whose kernel path refused a segmented send (bit per fd below GSO_FDS): their batches go without it. */
#define GSO_FDS 65536
static uint8_t gso_off[GSO_FDS / 8];
static udp_gso_stats gso_stats;

static int gso_refused(int fd) {
  return fd >= 0 && fd < GSO_FDS && (gso_off[fd / 8] & (1u << (fd % 8))) != 0;
}

static void refuse_gso(int fd) {
  if (fd >= 0 && fd < GSO_FDS) {
    gso_off[fd / 8] |= (uint8_t)(1u << (fd % 8));
  }
}

void udp_gso_read_stats(udp_gso_stats *out) {
  *out = gso_stats;
}

/*
 * Whether this kernel segments (asked once, on the first fd that would): a kernel before 4.18 ignores a
 * UDP_SEGMENT control message and would send a run as one long datagram, so segmenting needs the option known.
 */
static int gso_kernel = -1;

static int kernel_segments(int fd) {
  if (gso_kernel < 0) {
    int v = 0;
    socklen_t len = sizeof(v);
    gso_kernel = getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0 ? 1 : 0;
  }
  return gso_kernel;
}

/* One message of a batch: datagrams list[first, first + segs); with segs > 1, sent segmented at `size`. */
typedef struct {
  size_t first;
  size_t segs;
  uint16_t size;
} run;

/*
 * Splits list[0, n) into messages in order: a run of datagrams of one length (at most UDP_GSO_MAX_SEGS, at most
 * UDP_GSO_MAX_DATAGRAM bytes each, UDP_GSO_MAX_BYTES in all), optionally ended by one shorter datagram, is one
 * message the kernel cuts back into those datagrams; anything else is a message of its own. Returns the count.
 */
static size_t plan_runs(const udp_datagram *list, size_t n, int gso, run *out) {
  size_t m = 0;
  size_t i = 0;
  while (i < n) {
    const size_t len = list[i].len;
    size_t j = i + 1;
    if (gso && len > 0 && len <= UDP_GSO_MAX_DATAGRAM) {
      size_t total = len;
      while (j < n && j - i < UDP_GSO_MAX_SEGS && list[j].len == len && total + len <= UDP_GSO_MAX_BYTES) {
        total += len;
        j++;
      }
      if (j < n && j - i < UDP_GSO_MAX_SEGS && list[j].len > 0 && list[j].len < len &&
          total + list[j].len <= UDP_GSO_MAX_BYTES) {
        j++; /* the kernel's last segment may be shorter */
      }
    }
    out[m].first = i;
    out[m].segs = j - i;
    out[m].size = (uint16_t)len;
    m++;
    i = j;
  }
  return m;
}

long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count, int gso) {
  struct sockaddr_storage sa;
  const socklen_t sa_len = parse_address(address, port, &sa);
  if (sa_len == 0) {
    return -EINVAL;
  }
  struct mmsghdr msgs[UDP_BATCH_MAX];
  struct iovec iov[UDP_BATCH_MAX];
  run runs[UDP_BATCH_MAX];
  union {
    char buf[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control[UDP_BATCH_MAX];
  size_t sent = 0;
  while (sent < count) {
    size_t n = count - sent;
    if (n > UDP_BATCH_MAX) {
      n = UDP_BATCH_MAX;
    }
    const int segment = gso && !gso_refused(fd) && kernel_segments(fd);
    const size_t m = plan_runs(list + sent, n, segment, runs);
    memset(msgs, 0, sizeof(msgs[0]) * m);
    for (size_t i = 0; i < n; i++) {
      iov[i].iov_base = (void *)list[sent + i].data;
      iov[i].iov_len = list[sent + i].len;
    }
    for (size_t k = 0; k < m; k++) {
      struct msghdr *h = &msgs[k].msg_hdr;
      h->msg_name = &sa;
      h->msg_namelen = sa_len;
      h->msg_iov = &iov[runs[k].first];
      h->msg_iovlen = runs[k].segs;
      if (runs[k].segs > 1) {
        memset(control[k].buf, 0, sizeof(control[k].buf));
        h->msg_control = control[k].buf;
        h->msg_controllen = sizeof(control[k].buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(h);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        memcpy(CMSG_DATA(c), &runs[k].size, sizeof(uint16_t));
      }
    }
    /* A call that sent some messages and then failed reports only the count (the error is lost): send the rest
     * again, so a refusal of a segmented message is seen with its errno. */
    size_t k0 = 0;
    while (k0 < m) {
      int r;
      do {
        r = sendmmsg(fd, msgs + k0, (unsigned)(m - k0), MSG_DONTWAIT);
      } while (r < 0 && errno == EINTR);
      if (r > 0) {
        for (size_t k = k0; k < k0 + (size_t)r; k++) {
          sent += runs[k].segs;
          if (runs[k].segs > 1) {
            gso_stats.messages++;
            gso_stats.datagrams += runs[k].segs;
          }
        }
        k0 += (size_t)r;
        continue;
      }
      const int err = r < 0 ? errno : EAGAIN;
      if (runs[k0].segs > 1 && err != EAGAIN && err != EWOULDBLOCK && err != ENOBUFS) {
        /* The path refused a segmented message (no checksum offload, a route MTU below the datagrams, ...):
         * never again on this fd, and this chunk's rest again one datagram per message. */
        refuse_gso(fd);
        gso_stats.refused++;
        break;
      }
      return sent > 0 ? (long)sent : -(long)err; /* a full buffer: the caller sends the rest another way */
    }
    /* All of this chunk's messages went, or a refusal: the loop goes on from `sent`, unsegmented after one. */
  }
  return (long)sent;
}

int udp_stamp_arrivals(int fd) {
  const int on = 1;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0 ? 0 : -errno;
}

/* µs from the arrival time in `h`'s control data to `now`, clamped to [0, INT32_MAX]; -1 when there is none. */
static int32_t waited_us(const struct msghdr *h, const struct timespec *now) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR((struct msghdr *)h, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
        c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
      struct timespec at;
      memcpy(&at, CMSG_DATA(c), sizeof(at));
      const int64_t us = ((int64_t)now->tv_sec - (int64_t)at.tv_sec) * 1000000 +
                         ((int64_t)now->tv_nsec - (int64_t)at.tv_nsec) / 1000;
      return us < 0 ? 0 : us > INT32_MAX ? INT32_MAX : (int32_t)us;
    }
  }
  return -1;
}

long udp_recv_batch(int fd, uint8_t *base, size_t slots, size_t slot_size, int32_t *meta) {
  struct mmsghdr msgs[UDP_BATCH_MAX];
  struct iovec iov[UDP_BATCH_MAX];
  struct sockaddr_storage from[UDP_BATCH_MAX];
  /* Room for the arrival time (and a little more: the kernel may add other control messages). */
  union {
    char buf[CMSG_SPACE(sizeof(struct timespec)) + 64];
    struct cmsghdr align;
  } control[UDP_BATCH_MAX];
  if (slots > UDP_BATCH_MAX) {
    slots = UDP_BATCH_MAX;
  }
  memset(msgs, 0, sizeof(msgs[0]) * slots);
  for (size_t i = 0; i < slots; i++) {
    iov[i].iov_base = base + i * slot_size;
    iov[i].iov_len = slot_size;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i].buf;
    msgs[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
  }
  int r;
  do {
    r = recvmmsg(fd, msgs, (unsigned)slots, MSG_DONTWAIT, NULL);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -(long)errno;
  }
  struct timespec now;
  const int have_now = clock_gettime(CLOCK_REALTIME, &now) == 0;
  for (int i = 0; i < r; i++) {
    int32_t *m = meta + (size_t)i * UDP_RECV_META_WORDS;
    memset(m, 0, sizeof(int32_t) * UDP_RECV_META_WORDS);
    m[0] = (int32_t)(msgs[i].msg_len > slot_size ? slot_size : msgs[i].msg_len);
    m[1] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? UDP_RECV_TRUNCATED : 0;
    m[UDP_RECV_WAITED] = have_now ? waited_us(&msgs[i].msg_hdr, &now) : -1;
    if (from[i].ss_family == AF_INET) {
      const struct sockaddr_in *v4 = (const struct sockaddr_in *)&from[i];
      m[2] = ntohs(v4->sin_port);
      m[3] = 4;
      memcpy(&m[4], &v4->sin_addr, 4);
    } else if (from[i].ss_family == AF_INET6) {
      const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&from[i];
      m[2] = ntohs(v6->sin6_port);
      m[3] = 6;
      memcpy(&m[4], &v6->sin6_addr, 16);
    }
  }
  return r;
}

size_t udp_meta_address(const int32_t *meta, char *out, size_t out_len) {
  const int family = meta[3] == 4 ? AF_INET : meta[3] == 6 ? AF_INET6 : 0;
  if (family == 0 || inet_ntop(family, &meta[4], out, (socklen_t)out_len) == NULL) {
    return 0;
  }
  return strlen(out);
}

#else

int udp_stamp_arrivals(int fd) {
  (void)fd;
  return -ENOSYS;
}

long udp_recv_batch(int fd, uint8_t *base, size_t slots, size_t slot_size, int32_t *meta) {
  (void)fd;
  (void)base;
  (void)slots;
  (void)slot_size;
  (void)meta;
  return -ENOSYS;
}

size_t udp_meta_address(const int32_t *meta, char *out, size_t out_len) {
  (void)meta;
  (void)out;
  (void)out_len;
  return 0;
}

long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count, int gso) {
  (void)fd;
  (void)address;
  (void)port;
  (void)list;
  (void)count;
  (void)gso;
  return -ENOSYS;
}

void udp_gso_read_stats(udp_gso_stats *out) {
  memset(out, 0, sizeof(*out));
}

#endif
