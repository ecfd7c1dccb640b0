/**
 * Per-tile statistics from `RTCPeerConnection.getStats()` entries (plain objects), pure: for each received
 * track (`inbound-rtp` by `trackIdentifier`) the frame size being decoded (the layer the SFU forwards), the bit
 * rate since the previous sample, the packet loss fraction since then, frames decoded, and the connection's
 * round-trip time (the selected candidate pair). Unknown or missing fields give undefined, never NaN.
 */

export interface TrackSample {
  readonly at: number;
  readonly bytes: number;
  readonly packets: number;
  readonly lost: number;
}

export interface TileStats {
  width: number | undefined;
  height: number | undefined;
  bitrateBps: number | undefined;
  loss: number | undefined;
  framesDecoded: number | undefined;
  rttMs: number | undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The connection's RTT (ms) from the nominated, succeeded candidate pair. */
export function connectionRtt(entries: readonly Record<string, unknown>[]): number | undefined {
  for (const e of entries) {
    if (e['type'] === 'candidate-pair' && e['nominated'] === true && e['state'] === 'succeeded') {
      const s = num(e['currentRoundTripTime']);
      if (s !== undefined) {
        return Math.round(s * 1000);
      }
    }
  }
  return undefined;
}

/** Stats for the inbound track `trackId`; `prev` is the sample from last time (updated in place in `samples`). */
export function trackStats(
  entries: readonly Record<string, unknown>[],
  trackId: string,
  samples: Map<string, TrackSample>,
  now: number,
): TileStats | undefined {
  const e = entries.find((x) => x['type'] === 'inbound-rtp' && x['trackIdentifier'] === trackId);
  if (e === undefined) {
    return undefined;
  }
  const bytes = num(e['bytesReceived']) ?? 0;
  const packets = num(e['packetsReceived']) ?? 0;
  const lost = Math.max(0, num(e['packetsLost']) ?? 0);
  const prev = samples.get(trackId);
  samples.set(trackId, { at: now, bytes, packets, lost });
  let bitrateBps: number | undefined;
  let loss: number | undefined;
  if (prev !== undefined && now > prev.at) {
    bitrateBps = Math.max(0, Math.round(((bytes - prev.bytes) * 8000) / (now - prev.at)));
    const got = packets - prev.packets;
    const missed = Math.max(0, lost - prev.lost);
    loss = got + missed > 0 ? missed / (got + missed) : 0;
  }
  return {
    width: num(e['frameWidth']),
    height: num(e['frameHeight']),
    bitrateBps,
    loss,
    framesDecoded: num(e['framesDecoded']),
    rttMs: connectionRtt(entries),
  };
}

/** One line for the overlay: `640×360 · 812 kbit/s · 0.0 % loss · 3 ms`. */
export function statsLine(s: TileStats | undefined, kind: string): string {
  if (s === undefined) {
    return 'no media yet';
  }
  const parts: string[] = [];
  if (kind === 'video') {
    parts.push(
      s.width !== undefined && s.height !== undefined ? `${String(s.width)}×${String(s.height)}` : '–×–',
    );
  }
  parts.push(s.bitrateBps === undefined ? '– kbit/s' : `${String(Math.round(s.bitrateBps / 1000))} kbit/s`);
  parts.push(s.loss === undefined ? '– loss' : `${(s.loss * 100).toFixed(1)} % loss`);
  parts.push(s.rttMs === undefined ? 'RTT –' : `RTT ${String(s.rttMs)} ms`);
  return parts.join(' · ');
}
