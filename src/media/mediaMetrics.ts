/**
 * Media-path counters. The packet path only bumps plain numbers (no label hashing per packet); prom-client
 * reads them at scrape time through `collect()`:
 * sfu_rtp_packets_total{direction,kind}, sfu_rtp_dropped_total{reason}, sfu_layer_switches_total{direction},
 * sfu_keyframe_requests_total{reason}, sfu_forwarded_bytes_total.
 */
import { Counter, type Registry } from 'prom-client';
import { DROP_REASONS, type DropReason } from '../forwarding/dropReason.js';

export type KeyframeReason = 'start' | 'switch' | 'subscriber' | 'retry';
export type SwitchDirection = 'up' | 'down' | 'start';

export class MediaCounters {
  readonly packets = { in_audio: 0, in_video: 0, out_audio: 0, out_video: 0 };
  readonly dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  readonly switches: Record<SwitchDirection, number> = { up: 0, down: 0, start: 0 };
  readonly keyframeRequests: Record<KeyframeReason, number> = {
    start: 0,
    switch: 0,
    subscriber: 0,
    retry: 0,
  };
  forwardedBytes = 0;

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
    'Keyframe requests (PLI/FIR) sent to publishers, by reason (start, switch, subscriber, retry)',
    ['reason'],
    () =>
      (['start', 'switch', 'subscriber', 'retry'] as const).map((r) => ({
        labels: { reason: r },
        value: m.keyframeRequests[r],
      })),
  );
  pulled(registry, 'sfu_forwarded_bytes_total', 'RTP payload bytes forwarded to subscribers', [], () => [
    { labels: {}, value: m.forwardedBytes },
  ]);
}
