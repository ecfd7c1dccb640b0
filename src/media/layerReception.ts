/**
 * What a published track's layers record about the RTP they receive, per layer SSRC: loss tracking for NACKs
 * (rtp/nackGenerator.ts, when the m-line negotiated `nack` or the track always tracks loss) and the reception
 * statistics of RFC 3550 (rtp/receptionStats.ts) that the SFU's own receiver reports to the publisher carry —
 * werift's receive handling, which wrote those reports before, no longer runs (decryptedRtpTap.ts). Both are
 * made on a layer's first packet and forgotten when the layer is bound to another SSRC (trackLayers.ts).
 * No allocation per packet.
 */
import type { Logger } from 'pino';
import { NackGenerator } from '../rtp/nackGenerator.js';
import { ReceptionStats, type ReceptionReport } from '../rtp/receptionStats.js';
import { toError } from '../util/errors.js';
import type { MediaCounters } from './mediaMetrics.js';
import type { Layer } from './trackLayers.js';

/** What one arrival meant for loss: a NACKed packet came (`repair`), a new gap opened (`loss`), or neither. */
export type ArrivalOutcome = 'repair' | 'loss' | undefined;

/**
 * One packet of `layer` arrived at `now`: `nack` — track its loss; `reports` — count it for the receiver
 * reports (`clockRate`: the codec's, for the jitter).
 */
export function layerArrival(
  layer: Layer,
  seq: number,
  ts: number,
  ssrc: number,
  clockRate: number,
  now: number,
  nack: boolean,
  reports: boolean,
): ArrivalOutcome {
  if (reports) {
    (layer.reception ??= new ReceptionStats(ssrc, clockRate)).onPacket(seq, ts, now);
  }
  if (layer.nack === undefined && nack) {
    layer.nack = new NackGenerator();
  }
  if (layer.nack === undefined) {
    return undefined;
  }
  const before = layer.nack.missingCount;
  if (layer.nack.onPacket(seq, now) === 'repair') {
    return 'repair';
  }
  return layer.nack.missingCount > before ? 'loss' : undefined;
}

/** Appends a report block for every layer that received RTP on its current SSRC (closing their intervals). */
export function layerReports(layers: readonly Layer[], now: number, out: ReceptionReport[]): void {
  for (const l of layers) {
    const r = l.reception?.report(now);
    if (r !== undefined) {
      out.push(r);
    }
  }
}

/** Where `flushLayerNacks` counts and logs. */
export interface NackFlushContext {
  readonly counters: MediaCounters;
  readonly log: Logger;
  readonly mid: string;
}

/**
 * Sends the NACKs that are due now, one packet per layer SSRC; returns when the next ones are due (undefined:
 * nothing is missing). A throwing `send` is logged, and the other layers still go.
 */
export function flushLayerNacks(
  layers: readonly Layer[],
  now: number,
  send: (ssrc: number, seqs: number[]) => void,
  ctx: NackFlushContext,
): number | undefined {
  let next: number | undefined;
  for (const l of layers) {
    if (l.nack === undefined || l.ssrc === undefined) {
      continue;
    }
    const seqs = l.nack.due(now);
    if (seqs.length > 0) {
      ctx.counters.nackSent += seqs.length;
      try {
        send(l.ssrc, seqs);
      } catch (e) {
        ctx.log.warn({ err: toError(e), mid: ctx.mid }, 'NACK send failed');
      }
    }
    const at = l.nack.nextDueAt();
    if (at !== undefined && (next === undefined || at < next)) {
      next = at;
    }
  }
  return next;
}
