/**
 * RTP clock arithmetic for forwarded streams, from RTCP sender reports (RFC 3550 §6.4.1): translating a
 * timestamp from one simulcast layer's clock into another's (both layers are sampled by the same capturer, so
 * their SRs share the publisher's NTP timeline), and the sender report the SFU sends for a forwarded stream,
 * consistent with the rewritten timestamps. Pure.
 */

/** One sender report: the publisher's NTP time (ms) and the RTP timestamp sampled at that instant. */
export interface SenderClock {
  ntpMs: number;
  rtpTs: number;
}

/** Signed difference a - b of two 32-bit RTP timestamps. */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** `ts` of the layer described by `from`, expressed on the clock of the layer described by `to`. */
export function alignTimestamp(ts: number, from: SenderClock, to: SenderClock, clockRate: number): number {
  const ms = from.ntpMs + (tsDiff(ts, from.rtpTs) * 1000) / clockRate;
  return (to.rtpTs + Math.round(((ms - to.ntpMs) * clockRate) / 1000)) >>> 0;
}

export interface ForwardedClockState {
  clockRate: number;
  /** Last (highest) output timestamp and the local time (ms) it was sent. */
  lastOutTs: number;
  lastOutAt: number;
  /** output = input + offset (mod 2^32) for the layer being forwarded. */
  tsOffset: number;
  /** The current source layer's last SR, and the local time (ms) it arrived; undefined if none yet. */
  sourceSr?: SenderClock & { receivedAt: number };
}

/**
 * The (NTP ms, RTP timestamp) pair of an SR sent at local time `now` for a forwarded stream. With a source SR,
 * the publisher's NTP↔RTP mapping is carried over (shifted by the munging offset and extrapolated to now), so
 * audio and video of one publisher stay in sync at the receiver; without one, the local clock pairs with the
 * last output timestamp extrapolated to now.
 */
export function forwardedSenderReport(s: ForwardedClockState, now: number): SenderClock {
  const src = s.sourceSr;
  if (src !== undefined) {
    const elapsed = now - src.receivedAt;
    return {
      ntpMs: src.ntpMs + elapsed,
      rtpTs: (src.rtpTs + s.tsOffset + Math.round((elapsed * s.clockRate) / 1000)) >>> 0,
    };
  }
  return {
    ntpMs: now,
    rtpTs: (s.lastOutTs + Math.round(((now - s.lastOutAt) * s.clockRate) / 1000)) >>> 0,
  };
}
