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

/* Segmented sends (UDP GSO): at most this many datagrams per message, each at most UDP_GSO_MAX_DATAGRAM bytes
 * (below a 1,500-byte path's MTU with IPv6's headers, so the kernel need not refuse for size), at most
 * UDP_GSO_MAX_BYTES in all (under UDP's 64 KiB). */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_DATAGRAM 1400
#define UDP_GSO_MAX_BYTES 60000

/* Segmented sends since the process started: messages sent, the datagrams they carried, refusals (after
 * which that fd sends without segmenting). */
typedef struct {
  uint64_t messages;
  uint64_t datagrams;
  uint64_t refused;
} udp_gso_stats;

/*
 * Sends `count` datagrams to `address` (an IPv4 or IPv6 literal, no zone) and `port` on `fd`, in order. Returns
 * how many were sent (the first `n`; fewer than `count` when the socket's send buffer is full: the caller
 * sends the rest another way), or a negative errno when none could be: -EINVAL for an address that is not a
 * literal, -ENOSYS where sendmmsg does not exist, else the error of the first datagram.
 * With `gso`, consecutive datagrams of one length (the last of them may be shorter) go as one message the
 * kernel cuts back into the same datagrams (UDP_SEGMENT): a frame's packets to one address traverse the stack
 * once. Where the kernel refuses that (a device without checksum offload, a route whose MTU is below the
 * datagrams), the datagrams go one per message at once and the fd never segments again. A kernel that does not
 * know UDP_SEGMENT (before Linux 4.18: it would ignore the option and send a run as one long datagram) is asked
 * once (getsockopt) and never given a segmented message.
 */
long udp_send_batch(int fd, const char *address, int port, const udp_datagram *list, size_t count, int gso);

/* The segmented-send counters. */
void udp_gso_read_stats(udp_gso_stats *out);

/* Int32 words of `meta` per received datagram: length, flags (UDP_RECV_TRUNCATED), port, family (4 or 6), the
 * address's 16 bytes (an IPv4 address in the first 4, the rest zero), then how long the datagram waited in the
 * socket (µs from the kernel's arrival time to the read; -1 when the kernel gave none). */
#define UDP_RECV_META_WORDS 9
#define UDP_RECV_WAITED 8
#define UDP_RECV_TRUNCATED 1

/* Asks the kernel to stamp each datagram `fd` receives with its arrival time (SO_TIMESTAMPNS); 0, or -errno. */
int udp_stamp_arrivals(int fd);

/*
 * Receives up to `slots` datagrams from `fd` (recvmmsg, MSG_DONTWAIT) into `base`, datagram i at
 * `base + i * slot_size`, its length, flags, port, family, address and time waited in
 * `meta[i * UDP_RECV_META_WORDS ...]`.
 * Returns how many were received (0 when none is waiting), or a negative errno (-ENOSYS where recvmmsg does not
 * exist). A datagram longer than `slot_size` is cut and flagged UDP_RECV_TRUNCATED.
 */
long udp_recv_batch(int fd, uint8_t *base, size_t slots, size_t slot_size, int32_t *meta);

/* The address of received datagram `meta` (UDP_RECV_META_WORDS words) as text into `out`; its length, or 0. */
size_t udp_meta_address(const int32_t *meta, char *out, size_t out_len);

#endif
