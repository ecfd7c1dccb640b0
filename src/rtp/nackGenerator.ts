/**
 * Receive-side loss tracking for ONE RTP stream (one SSRC), the input of the SFU's upstream NACKs
 * (werift-notes pitfall 3: werift's generator mixes simulcast sequence spaces and retries every 5 ms).
 *
 * Gaps in the sequence space become missing entries; `due(now)` says which to NACK now: a missing packet is
 * NACKed once it has been missing for `reorderMs`, then again every max(`minRetryMs`, 1.5 × RTT) while
 * retries remain, and forgotten after `maxRetries` NACKs or `maxAgeMs` (a repair that late is useless).
 * A stream that loses nothing never produces a NACK. Jumps larger than `maxGap` (a restarted or
 * switched source) are a resync, not loss. Memory is bounded by `maxMissing`. The RTT comes from repairs:
 * the time from a packet's first NACK to its arrival (EWMA, only packets NACKed once).
 * Pure: no timers, no I/O; time is passed in.
 */
import { seqDiff } from './seq.js';

export interface NackGeneratorOptions {
  /** Wait this long after a gap is seen before the first NACK (reordering tolerance). */
  reorderMs: number;
  minRetryMs: number;
  maxRetries: number;
  maxAgeMs: number;
  maxMissing: number;
  maxGap: number;
  /** RTT used before the first repair is measured. */
  initialRttMs: number;
}

export const DEFAULT_NACK_OPTIONS: NackGeneratorOptions = {
  reorderMs: 5,
  minRetryMs: 15,
  maxRetries: 10,
  maxAgeMs: 1000,
  maxMissing: 512,
  maxGap: 1000,
  initialRttMs: 50,
};

const MIN_RTT_MS = 1;
const MAX_RTT_MS = 2000;

interface Missing {
  since: number;
  lastNackAt: number;
  firstNackAt: number;
  nacks: number;
}

export type Arrival = 'first' | 'in_order' | 'repair' | 'late' | 'duplicate' | 'resync';

export class NackGenerator {
  readonly #o: NackGeneratorOptions;
  /** Missing 16-bit sequence numbers, in the order they went missing (oldest first). */
  readonly #missing = new Map<number, Missing>();
  #highest = 0;
  #started = false;
  #rttMs: number;
  #gaveUp = 0;

  constructor(options: Partial<NackGeneratorOptions> = {}) {
    this.#o = { ...DEFAULT_NACK_OPTIONS, ...options };
    this.#rttMs = this.#o.initialRttMs;
  }

  get rttMs(): number {
    return this.#rttMs;
  }

  get missingCount(): number {
    return this.#missing.size;
  }

  /** Missing packets given up on (retries exhausted, too old, or pushed out by the memory bound). */
  get gaveUp(): number {
    return this.#gaveUp;
  }

  /** Records one received packet. */
  onPacket(seq: number, now: number): Arrival {
    const s = seq & 0xffff;
    if (!this.#started) {
      this.#started = true;
      this.#highest = s;
      return 'first';
    }
    const d = seqDiff(s, this.#highest, 16);
    if (d === 0) {
      return 'duplicate';
    }
    if (d > 0) {
      if (d > this.#o.maxGap) {
        this.#gaveUp += this.#missing.size;
        this.#missing.clear();
        this.#highest = s;
        return 'resync';
      }
      for (let i = 1; i < d; i++) {
        this.#add((this.#highest + i) & 0xffff, now);
      }
      this.#highest = s;
      return 'in_order';
    }
    const m = this.#missing.get(s);
    if (m === undefined) {
      return -d > this.#o.maxGap ? 'resync' : 'late';
    }
    this.#missing.delete(s);
    if (m.nacks === 0) {
      return 'late';
    }
    if (m.nacks === 1) {
      const sample = Math.min(MAX_RTT_MS, Math.max(MIN_RTT_MS, now - m.firstNackAt));
      this.#rttMs = this.#rttMs * 0.875 + sample * 0.125;
    }
    return 'repair';
  }

  /**
   * The sequence numbers to NACK now (each counted as one more NACK), oldest first; expired entries are
   * dropped. Allocates only the returned list.
   */
  due(now: number): number[] {
    const out: number[] = [];
    if (this.#missing.size === 0) {
      return out;
    }
    const retry = Math.max(this.#o.minRetryMs, this.#rttMs * 1.5);
    for (const [seq, m] of this.#missing) {
      if (now - m.since > this.#o.maxAgeMs || m.nacks >= this.#o.maxRetries) {
        this.#missing.delete(seq);
        this.#gaveUp++;
        continue;
      }
      const wait = m.nacks === 0 ? this.#o.reorderMs : retry;
      if (now - (m.nacks === 0 ? m.since : m.lastNackAt) < wait) {
        continue;
      }
      if (m.nacks === 0) {
        m.firstNackAt = now;
      }
      m.nacks++;
      m.lastNackAt = now;
      out.push(seq);
    }
    return out;
  }

  /** The earliest time at which `due` may return something (undefined: nothing missing). */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    const retry = Math.max(this.#o.minRetryMs, this.#rttMs * 1.5);
    for (const m of this.#missing.values()) {
      const at = m.nacks === 0 ? m.since + this.#o.reorderMs : m.lastNackAt + retry;
      if (next === undefined || at < next) {
        next = at;
      }
    }
    return next;
  }

  #add(seq: number, now: number): void {
    if (this.#missing.size >= this.#o.maxMissing) {
      const oldest = this.#missing.keys().next().value;
      if (oldest !== undefined) {
        this.#missing.delete(oldest);
        this.#gaveUp++;
      }
    }
    this.#missing.set(seq, { since: now, lastNackAt: 0, firstNackAt: 0, nacks: 0 });
  }
}
