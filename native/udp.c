/* See udp.h. */
#define _GNU_SOURCE
#include "udp.h"

#include <errno.h>
#include <string.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

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

long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count) {
  struct sockaddr_storage sa;
  const socklen_t sa_len = parse_address(address, port, &sa);
  if (sa_len == 0) {
    return -EINVAL;
  }
  struct mmsghdr msgs[UDP_BATCH_MAX];
  struct iovec iov[UDP_BATCH_MAX];
  size_t sent = 0;
  while (sent < count) {
    size_t n = count - sent;
    if (n > UDP_BATCH_MAX) {
      n = UDP_BATCH_MAX;
    }
    memset(msgs, 0, sizeof(msgs[0]) * n);
    for (size_t i = 0; i < n; i++) {
      iov[i].iov_base = (void *)list[sent + i].data;
      iov[i].iov_len = list[sent + i].len;
      msgs[i].msg_hdr.msg_name = &sa;
      msgs[i].msg_hdr.msg_namelen = sa_len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r;
    do {
      r = sendmmsg(fd, msgs, (unsigned)n, MSG_DONTWAIT);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
      return sent > 0 ? (long)sent : -(long)errno;
    }
    sent += (size_t)r;
    if ((size_t)r < n) {
      break;
    }
  }
  return (long)sent;
}

#else

long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count) {
  (void)fd;
  (void)address;
  (void)port;
  (void)list;
  (void)count;
  return -ENOSYS;
}

#endif
