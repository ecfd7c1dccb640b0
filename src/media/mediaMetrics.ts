/**
 * Media-path counters. The packet path only bumps plain numbers (no label hashing per packet); prom-client
 * reads them at scrape time through `collect()`:
 * sfu_rtp_packets_total{direction,kind}, sfu_rtp_dropped_total{reason}, sfu_layer_switches_total{direction},
 * sfu_keyframe_requests_total{reason}, sfu_forwarded_bytes_total; loss recovery: sfu_nack_sent_total,
 * sfu_nack_received_total, sfu_nack_repaired_total, sfu_retransmitted_packets_total{result},
 * sfu_rtx_packets_total{direction}; bandwidth: sfu_bandwidth_estimate_bps (histogram, observed per
 * subscriber stream once per estimate update, no per-user labels); send path: sfu_rtp_sends_total{path},
 * sfu_udp_send_errors_total.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { DROP_REASONS, type DropReason } from '../forwarding/dropReason.js';
import { SEND_RESULTS, srtpSendErrors, type SendResult } from './srtpSend.js';
import { turnEnd } from './turnEnd.js';
import { batchCounts, gsoCounts } from './udpBatch.js';
import { consentChecks, consentErrors } from './consentChecks.js';
import { RECEIVE_WAIT_THRESHOLDS_US, receiveCounts, receiveWaits } from './udpReceive.js';

export type KeyframeReason = 'start' | 'switch' | 'subscriber' | 'retry' | 'deferred';
export type SwitchDirection = 'up' | 'down' | 'start';
export const RETRANSMIT_RESULTS = ['sent', 'missing', 'too_old', 'duplicate', 'rate_limited'] as const;
export type RetransmitResult = (typeof RETRANSMIT_RESULTS)[number];

export class MediaCounters {
  readonly packets = { in_audio: 0, in_video: 0, out_audio: 0, out_video: 0 };
  readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  readonly switches: Record<SwitchDirection, number> = { up: 0, down: 0, start: 0 };
  readonly keyframeRequests: Record<KeyframeReason, number> = {
    start: 0,
    switch: 0,
    subscriber: 0,
    retry: 0,
    deferred: 0,
  };
  forwardedBytes = 0;
  /** Sequence numbers NACKed upstream (to publishers). */
  nackSent = 0;
  /** Sequence numbers NACKed by subscribers. */
  nackReceived = 0;
  /** NACKed publisher packets that then arrived. */
  nackRepaired = 0;
  /** Subscriber feedback over its budget, ignored (feedbackBudget.ts units: NACKed seqs, 50 per PLI/FIR). */
  feedbackIgnored = 0;
  /** Publisher RTP of layers nobody takes, counted and dropped before decryption (layerSkip.ts). */
  unwatchedSkipped = 0;
  /** SRTP/SRTCP datagrams the receive fast path dropped as not authentic (udpFastPath.ts). */
  srtpRejected = 0;
  /** Counts one (a stable function: the fast path's `rejected`). */
  readonly onSrtpRejected = (): void => {
    this.srtpRejected++;
  };
  readonly retransmits = Object.fromEntries(RETRANSMIT_RESULTS.map((r) => [r, 0])) as Record<
    RetransmitResult,
    number
  >;
  readonly rtx = { in: 0, out: 0 };
  /** Bandwidth probes started towards subscribers. */
  probes = 0;
  /** How forwarded packets left (media/srtpSend.ts): direct, werift (fallback), or not at all. */
  readonly sends: Record<SendResult, number> = { direct: 0, werift: 0, not_ready: 0, encrypt_failed: 0 };
  /** Estimates waiting for the histogram (drained at scrape time; bounded). */
  readonly estimates: number[] = [];

  observeEstimate(bps: number): void {
    if (this.estimates.length < 10_000) {
      this.estimates.push(bps);
    }
  }

  packetIn(kind: 'audio' | 'video'): void {
    if (kind === 'audio') {
      this.packets.in_audio++;
    } else {
      this.packets.in_video++;
    }
  }

  packetOut(kind: 'audio' | 'video', bytes: number): void {
    if (kind === 'audio') {
      this.packets.out_audio++;
    } else {
      this.packets.out_video++;
    }
    this.forwardedBytes += bytes;
  }

  drop(reason: DropReason): void {
    this.dropped[reason]++;
  }

  /** Counts how one packet left (per forwarded packet: each branch a named field, no keyed lookup). */
  sent(r: SendResult): void {
    switch (r) {
      case 'direct':
        this.sends.direct++;
        break;
      case 'werift':
        this.sends.werift++;
        break;
      case 'not_ready':
        this.sends.not_ready++;
        break;
      case 'encrypt_failed':
        this.sends.encrypt_failed++;
        break;
    }
  }
}

/** A counter whose value is read from `read()` at scrape time (monotonic sources only). */
function pulled<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => { labels: Partial<Record<L, string>>; value: number }[],
): void {
  const reported = new Map<string, number>();
  const c: Counter<L> = new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      for (const { labels, value } of read()) {
        const key = JSON.stringify(labels);
        const delta = value - (reported.get(key) ?? 0);
        if (delta > 0) {
          c.inc(labels, delta);
          reported.set(key, value);
        }
      }
    },
  });
}

export function registerMediaMetrics(registry: Registry, m: MediaCounters): void {
  pulled(
    registry,
    'sfu_rtp_packets_total',
    'RTP packets, by direction (in, out) and kind',
    ['direction', 'kind'],
    () => [
      { labels: { direction: 'in', kind: 'audio' }, value: m.packets.in_audio },
      { labels: { direction: 'in', kind: 'video' }, value: m.packets.in_video },
      { labels: { direction: 'out', kind: 'audio' }, value: m.packets.out_audio },
      { labels: { direction: 'out', kind: 'video' }, value: m.packets.out_video },
    ],
  );
  pulled(
    registry,
    'sfu_rtp_dropped_total',
    'RTP packets not forwarded to a subscriber, by reason',
    ['reason'],
    () => DROP_REASONS.map((r) => ({ labels: { reason: r }, value: m.dropped[r] })),
  );
  pulled(
    registry,
    'sfu_layer_switches_total',
    'Simulcast layer switches of forwarded tracks, by direction (up, down, start)',
    ['direction'],
    () => (['up', 'down', 'start'] as const).map((d) => ({ labels: { direction: d }, value: m.switches[d] })),
  );
  pulled(
    registry,
    'sfu_keyframe_requests_total',
    'Keyframe requests (PLI/FIR) sent to publishers, by reason (start, switch, subscriber, retry, deferred)',
    ['reason'],
    () =>
      (['start', 'switch', 'subscriber', 'retry', 'deferred'] as const).map((r) => ({
        labels: { reason: r },
        value: m.keyframeRequests[r],
      })),
  );
  pulled(
    registry,
    'sfu_rtp_sends_total',
    'Forwarded RTP packets by send path: direct (one socket send), werift (fallback), not_ready, encrypt_failed',
    ['path'],
    () => SEND_RESULTS.map((r) => ({ labels: { path: r }, value: m.sends[r] })),
  );
  pulled(
    registry,
    'sfu_rtp_unwatched_skipped_total',
    'Publisher RTP packets of simulcast layers no subscriber or link takes, counted and dropped before decryption',
    [],
    () => [{ labels: {}, value: m.unwatchedSkipped }],
  );
  pulled(
    registry,
    'sfu_srtp_rejected_total',
    'SRTP and SRTCP datagrams from a connected peer that failed authentication, were replays (an index already received, or older than the 1,024-packet replay window) or were malformed, dropped',
    [],
    () => [{ labels: {}, value: m.srtpRejected }],
  );
  pulled(registry, 'sfu_udp_send_errors_total', 'UDP send errors reported by media sockets', [], () => [
    { labels: {}, value: srtpSendErrors() },
  ]);
  pulled(
    registry,
    'sfu_send_flush_errors_total',
    'End-of-turn send flushes that threw: their datagrams may not have left (a bug; a flush counts its own send failures and should never throw)',
    [],
    () => [{ labels: {}, value: turnEnd.failed }],
  );
  pulled(
    registry,
    'sfu_udp_batched_datagrams_total',
    "Datagrams of batched sends (a socket's packets of one event-loop turn) by how they left: sendmmsg (one system call per batch, native add-on), socket (one socket.send each), closed (not sent: the socket closed before the turn ended)",
    ['path'],
    () =>
      (['sendmmsg', 'socket', 'closed'] as const).map((p) => ({
        labels: { path: p },
        value: batchCounts[p],
      })),
  );
  pulled(
    registry,
    'sfu_ice_consent_checks_total',
    "The focus's own ICE consent checks (RFC 7675, consentChecks.ts): requests sent, authenticated answers taken, connections failed for want of an answer within 30 s (expired), connections given back to werift's loop (returned), and entries whose tick threw (errors: a bug)",
    ['outcome'],
    () => [
      ...(['sent', 'answered', 'expired', 'returned'] as const).map((o) => ({
        labels: { outcome: o },
        value: consentChecks.counters[o],
      })),
      { labels: { outcome: 'errors' }, value: consentErrors.count },
    ],
  );
  pulled(
    registry,
    'sfu_udp_gso_total',
    'Segmented sends (UDP GSO, native add-on): messages (each a run of equal-length datagrams to one address, cut back into them by the kernel), the datagrams they carried, and refusals (a socket whose path would not take them: sent one by one since)',
    ['kind'],
    () => {
      const c = gsoCounts();
      return (['messages', 'datagrams', 'refused'] as const).map((k) => ({
        labels: { kind: k },
        value: c[k],
      }));
    },
  );
  pulled(
    registry,
    'sfu_udp_batch_received_total',
    'Datagrams read in batches by the native add-on (recvmmsg, udpReceive.ts): handed on (datagrams), dropped because longer than a slot (truncated), the readable events that read them (batches), and the 64-KiB slabs allocated to read into (slabs)',
    ['kind'],
    () =>
      (['datagrams', 'truncated', 'batches', 'slabs'] as const).map((k) => ({
        labels: { kind: k },
        value: receiveCounts[k],
      })),
  );
  pulled(
    registry,
    'sfu_udp_receive_waits_over_total',
    "Datagrams read in batches that waited in their socket longer than over_ms before the SFU read them (from the kernel's arrival time): the SFU fell behind its packets",
    ['over_ms'],
    () =>
      RECEIVE_WAIT_THRESHOLDS_US.map((us, i) => ({
        labels: { over_ms: String(us / 1000) },
        value: receiveWaits.over[i] ?? 0,
      })),
  );
  const waitMax = new Gauge({
    name: 'sfu_udp_receive_wait_max_seconds',
    help: 'The longest any datagram read in batches waited in its socket (kernel arrival to read) since the previous scrape',
    registers: [registry],
    collect() {
      waitMax.set(receiveWaits.takeMax() / 1e6);
    },
  });
  pulled(registry, 'sfu_forwarded_bytes_total', 'RTP payload bytes forwarded to subscribers', [], () => [
    { labels: {}, value: m.forwardedBytes },
  ]);
  pulled(registry, 'sfu_nack_sent_total', 'Sequence numbers the SFU NACKed to publishers', [], () => [
    { labels: {}, value: m.nackSent },
  ]);
  pulled(
    registry,
    'sfu_nack_received_total',
    'Sequence numbers subscribers NACKed to the SFU (bounded per NACK packet)',
    [],
    () => [{ labels: {}, value: m.nackReceived }],
  );
  pulled(registry, 'sfu_nack_repaired_total', 'Packets NACKed to publishers that then arrived', [], () => [
    { labels: {}, value: m.nackRepaired },
  ]);
  pulled(
    registry,
    'sfu_rtcp_feedback_ignored_total',
    'Subscriber feedback over its budget, ignored (units: NACKed sequence numbers, 50 per PLI or FIR)',
    [],
    () => [{ labels: {}, value: m.feedbackIgnored }],
  );
  pulled(
    registry,
    'sfu_retransmitted_packets_total',
    'Answers to subscriber NACKs, by result (sent, missing, too_old, duplicate, rate_limited)',
    ['result'],
    () => RETRANSMIT_RESULTS.map((r) => ({ labels: { result: r }, value: m.retransmits[r] })),
  );
  pulled(
    registry,
    'sfu_rtx_packets_total',
    'RTX (RFC 4588) packets, by direction; RTX is not negotiated yet (see README), so both stay 0',
    ['direction'],
    () => [
      { labels: { direction: 'in' }, value: m.rtx.in },
      { labels: { direction: 'out' }, value: m.rtx.out },
    ],
  );
  pulled(registry, 'sfu_bandwidth_probes_total', 'Padding probes started towards subscribers', [], () => [
    { labels: {}, value: m.probes },
  ]);
  const h: Histogram = new Histogram({
    name: 'sfu_bandwidth_estimate_bps',
    help: 'Subscriber bandwidth estimates (bit/s), one observation per subscriber connection per update',
    buckets: [50e3, 100e3, 200e3, 300e3, 500e3, 750e3, 1e6, 1.5e6, 2e6, 3e6, 5e6, 10e6],
    registers: [registry],
    collect() {
      for (const v of m.estimates.splice(0)) {
        h.observe(v);
      }
    },
  });
}

/** sfu_udp_receive_drops_total: datagrams the kernel dropped at this focus's full receive buffers (udpDrops.ts). */
export function registerUdpDropsMetric(registry: Registry, drops: { total(): number }): void {
  pulled(
    registry,
    'sfu_udp_receive_drops_total',
    "UDP datagrams the kernel dropped because a peer socket's receive buffer was full (Linux; media.udp_receive_buffer_bytes)",
    [],
    () => [{ labels: {}, value: drops.total() }],
  );
}

/** `sfu_srtp_native`: 1 when the native SRTP add-on encrypts, 0 on the pure-TypeScript SRTP. */
export function registerSrtpMetric(registry: Registry, native: boolean): void {
  pulled(
    registry,
    'sfu_srtp_native',
    'Whether the native SRTP add-on is in use (1) or the pure-TypeScript SRTP (0; see the start-up log for why)',
    [],
    () => [{ labels: {}, value: native ? 1 : 0 }],
  );
}
