/*
 * Batched UDP sends for the SFU's packet path: several datagrams to one address in one system call
 * (sendmmsg on Linux), on a socket libuv owns (its fd, non-blocking). Never blocks, never writes the buffers.
 */
#ifndef SFU_UDP_H
#define SFU_UDP_H

#include <stddef.h>
#include <stdint.h>

/* At most this many datagrams per system call (a batch is split into calls of this size). */
#define UDP_BATCH_MAX 64

typedef struct {
  const uint8_t *data;
  size_t len;
} udp_datagram;

/*
 * Sends `count` datagrams to `address` (an IPv4 or IPv6 literal, no zone) and `port` on `fd`, in order. Returns
 * how many were sent (the first `n`; fewer than `count` when the socket's send buffer is full: the caller
 * sends the rest another way), or a negative errno when none could be: -EINVAL for an address that is not a
 * literal, -ENOSYS where sendmmsg does not exist, else the error of the first datagram.
 */
long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count);

#endif
