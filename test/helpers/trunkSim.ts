/**
 * A deterministic trunk simulation for the trunk estimator's scenario tests: a sender pacing 1200-byte
 * packets at min(demand, the last REMB it has received), a FIFO bottleneck of a given capacity plus a fixed
 * propagation delay, and the receiving focus's TrunkEstimator fed in arrival order, ticked every 100 ms.
 * Optional: abs-send-time offset (to force the 64 s wrap), pairwise reordering, delivery in bursts, frames
 * sent as bursts, a busy receiving host (`busyHost`: its reads fall
 * behind while busy, then catch up; reported at the ticks in and just after, as src/media/hostStall.ts does).
 */
import { ABS_SEND_TIME_TICKS_PER_MS } from '../../src/forwarding/delayGradient.js';
import { TrunkEstimator } from '../../src/forwarding/trunkEstimator.js';

export interface SimOptions {
  durationMs: number;
  demandBps: (t: number) => number;
  capacityBps: (t: number) => number;
  propMs?: number;
  packetBytes?: number;
  /** Added to every raw abs-send-time value (mod 2^24). */
  absOffset?: number;
  /** The sender ignores REMB (sends its demand). */
  openLoop?: boolean;
  /** Swap every n-th pair of packets on arrival. */
  reorderEvery?: number;
  /** Deliver arrivals only on multiples of this many ms (a bursty last hop). */
  deliverEveryMs?: number;
  /** Send each 30 fps frame's packets with one send time. */
  frames?: boolean;
  /**
   * Spans of arrival time during which the receiving process is busy: a packet arriving `d` ms into one is
   * read `d / 2` ms late; after the span the lag shrinks by 1 ms per ms. `reported`: `onHostStall` at every tick
   * in it (the loop turns late while busy) and at the first one after it.
   */
  busyHost?: { spans: readonly { at: number; ms: number }[]; reported: boolean };
  estimator?: TrunkEstimator;
}

export interface SimResult {
  estimator: TrunkEstimator;
  rembs: { at: number; bps: number }[];
  /** Estimate every 100 ms. */
  samples: { at: number; bps: number; received: number }[];
  firstOveruseAt: number | undefined;
  /** Groups the detector had completed when it first reported overuse. */
  groupsAtFirstOveruse: number | undefined;
  overuseCount: number;
}

export function simulate(o: SimOptions): SimResult {
  const est = o.estimator ?? new TrunkEstimator();
  const prop = o.propMs ?? 20;
  const bytes = o.packetBytes ?? 1200;
  const rembs: { at: number; bps: number }[] = [];
  const samples: { at: number; bps: number; received: number }[] = [];
  let firstOveruseAt: number | undefined;
  let groupsAtFirstOveruse: number | undefined;
  let overuseCount = 0;
  let nextTick = 0;
  const busy = o.busyHost;
  const lagAt = (t: number): number => {
    let lag = 0;
    for (const b of busy?.spans ?? []) {
      if (t >= b.at && t < b.at + b.ms) {
        lag = Math.max(lag, (t - b.at) / 2);
      } else if (t >= b.at + b.ms) {
        lag = Math.max(lag, b.ms / 2 - (t - b.at - b.ms));
      }
    }
    return lag;
  };

  const runTicksUntil = (t: number): void => {
    while (nextTick <= t && nextTick <= o.durationMs) {
      for (const b of busy?.reported === true ? busy.spans : []) {
        if (nextTick > b.at && nextTick < b.at + b.ms + 100) {
          est.onHostStall(Math.min(nextTick, b.at + b.ms));
        }
      }
      const r = est.rembDue(nextTick);
      if (r !== undefined) {
        rembs.push({ at: nextTick, bps: r });
      }
      samples.push({ at: nextTick, bps: est.estimate(nextTick), received: est.receivedBps });
      nextTick += 100;
    }
  };
  const rembKnownAt = (s: number): number => {
    let v = Number.POSITIVE_INFINITY;
    for (let i = rembs.length - 1; i >= 0; i--) {
      const r = rembs[i]!;
      if (r.at + prop <= s) {
        v = r.bps;
        break;
      }
    }
    return v;
  };
  const feed = (send: number, arrival: number): void => {
    runTicksUntil(arrival);
    const abs = (Math.floor(send * ABS_SEND_TIME_TICKS_PER_MS) + (o.absOffset ?? 0)) % (1 << 24);
    const before = est.usage;
    est.onPacket(abs, arrival, bytes);
    if (est.usage === 'overuse' && before !== 'overuse') {
      overuseCount++;
      if (firstOveruseAt === undefined) {
        firstOveruseAt = arrival;
        groupsAtFirstOveruse = est.delay.groups;
      }
    }
  };

  let send = 0;
  let linkFree = 0;
  let pending: { send: number; arrival: number } | undefined;
  let n = 0;
  // Bounded: at most durationMs × 10 packets.
  for (let guard = 0; send < o.durationMs && guard < o.durationMs * 10; guard++) {
    const rate = Math.max(
      10_000,
      o.openLoop === true ? o.demandBps(send) : Math.min(o.demandBps(send), rembKnownAt(send)),
    );
    const perFrame = o.frames === true ? Math.max(1, Math.ceil(rate / 30 / (bytes * 8))) : 1;
    for (let k = 0; k < perFrame; k++) {
      const tx = ((bytes * 8) / o.capacityBps(send)) * 1000;
      linkFree = Math.max(send + prop, linkFree) + tx;
      let arrival = linkFree + lagAt(linkFree);
      if (o.deliverEveryMs !== undefined) {
        arrival = Math.ceil(arrival / o.deliverEveryMs) * o.deliverEveryMs;
      }
      n++;
      if (o.reorderEvery !== undefined && n % o.reorderEvery === 0 && pending === undefined) {
        pending = { send, arrival };
        continue;
      }
      feed(send, arrival);
      if (pending !== undefined) {
        feed(pending.send, arrival); // the held packet arrives just after its successor
        pending = undefined;
      }
    }
    send += o.frames === true ? 1000 / 30 : ((bytes * 8) / rate) * 1000;
  }
  runTicksUntil(o.durationMs);
  return { estimator: est, rembs, samples, firstOveruseAt, groupsAtFirstOveruse, overuseCount };
}

export function sampleAt(r: SimResult, at: number): number {
  const s = r.samples.find((x) => x.at >= at);
  if (s === undefined) {
    throw new Error(`no sample at ${String(at)}`);
  }
  return s.bps;
}
