/**
 * SFU-initiated renegotiation for one session (protocol.md §5.4): at most one SFU offer outstanding;
 * changes made meanwhile are coalesced into the next offer; an answer must come within the timeout;
 * glare — a client offer while ours is outstanding — rolls ours back (the SFU is the polite peer), applies
 * the client's, and re-offers afterwards. All calls come from the conference queue, so no two interleave.
 */
import type { Clock, TimerHandle } from '../util/clock.js';

export interface NegotiatorOptions {
  clock: Clock;
  answerTimeoutMs: number;
  /** Creates and applies a local offer; returns its SDP. */
  createOffer: () => Promise<string>;
  /** Sends the offer to the client with its id. */
  sendOffer: (id: string, sdp: string) => void;
  /** Rolls back the outstanding local offer. */
  rollback: () => Promise<void>;
  /** Applies the client's answer to our offer. */
  applyAnswer: (sdp: string) => Promise<void>;
  /** No answer in time (→ hangup unknown_error). Called from a timer: the caller queues its work. */
  onTimeout: () => void;
}

export type AnswerResult = 'applied' | 'no_offer' | 'stale_id';

export class Negotiator {
  readonly #o: NegotiatorOptions;
  #counter = 0;
  #outstanding: { id: string; timer: TimerHandle } | undefined;
  #pending = false;
  #closed = false;

  constructor(opts: NegotiatorOptions) {
    this.#o = opts;
  }

  get outstandingId(): string | undefined {
    return this.#outstanding?.id;
  }

  get pending(): boolean {
    return this.#pending;
  }

  /** Something changed that needs m-lines added or removed: offer now, or after the outstanding one. */
  async request(): Promise<void> {
    this.#pending = true;
    if (this.#outstanding === undefined) {
      await this.#offer();
    }
  }

  /** The client's answer (id: dialect A echoes it; undefined in dialect B). */
  async answer(id: string | undefined, sdp: string): Promise<AnswerResult> {
    const out = this.#outstanding;
    if (out === undefined) {
      return 'no_offer';
    }
    if (id !== undefined && id !== out.id) {
      return 'stale_id';
    }
    out.timer.cancel();
    this.#outstanding = undefined;
    await this.#o.applyAnswer(sdp);
    if (this.#pending) {
      await this.#offer();
    }
    return 'applied';
  }

  /**
   * Before applying a client offer: rolls back an outstanding SFU offer (glare) and remembers to re-offer.
   * Returns true if a rollback happened.
   */
  async beforeClientOffer(): Promise<boolean> {
    const out = this.#outstanding;
    if (out === undefined) {
      return false;
    }
    out.timer.cancel();
    this.#outstanding = undefined;
    this.#pending = true;
    await this.#o.rollback();
    return true;
  }

  /** After a client offer was answered: send what is still pending. */
  async afterClientOffer(): Promise<void> {
    if (this.#pending && this.#outstanding === undefined) {
      await this.#offer();
    }
  }

  close(): void {
    this.#closed = true;
    this.#outstanding?.timer.cancel();
    this.#outstanding = undefined;
  }

  async #offer(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#pending = false;
    const id = `sfu-${++this.#counter}`;
    const timer = this.#o.clock.setTimeout(() => {
      if (this.#outstanding?.id === id) {
        this.#o.onTimeout();
      }
    }, this.#o.answerTimeoutMs);
    this.#outstanding = { id, timer };
    const sdp = await this.#o.createOffer();
    this.#o.sendOffer(id, sdp);
  }
}
