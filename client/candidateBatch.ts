/**
 * Trickle ICE out (protocol.md §4.2): the peer's candidates gathered within one window go in one
 * `m.call.candidates`; the end marker `{candidate: ""}` flushes at once, so it ends the last batch.
 */
import type { LocalCandidate } from './peer.js';

export class CandidateBatch {
  readonly #windowMs: number;
  readonly #flush: (candidates: LocalCandidate[]) => void;
  #batch: LocalCandidate[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** `flush` gets each non-empty batch, in order. */
  constructor(windowMs: number, flush: (candidates: LocalCandidate[]) => void) {
    this.#windowMs = windowMs;
    this.#flush = flush;
  }

  add(c: LocalCandidate): void {
    if (this.#closed) {
      return;
    }
    this.#batch.push(
      c.candidate === ''
        ? { candidate: '' }
        : {
            candidate: c.candidate,
            ...(c.sdpMid === undefined ? {} : { sdpMid: c.sdpMid }),
            ...(c.sdpMLineIndex === undefined ? {} : { sdpMLineIndex: c.sdpMLineIndex }),
          },
    );
    if (c.candidate === '') {
      this.#send();
    } else {
      this.#timer ??= setTimeout(() => {
        this.#send();
      }, this.#windowMs);
    }
  }

  /** Drops what is unsent and ignores later candidates. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) {
      return;
    }
    const candidates = this.#batch;
    this.#batch = [];
    this.#flush(candidates);
  }
}
