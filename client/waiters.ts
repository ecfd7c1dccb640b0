/** Condition waiters: each resolves once its check holds (re-evaluated on `notify()`), or rejects on timeout/close. */

interface Waiter {
  check: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WaitTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitTimeoutError';
  }
}

export class Waiters {
  readonly #waiters = new Set<Waiter>();
  #closedWith: string | undefined;

  /** `timeoutMessage` builds the rejection text when the wait times out (called then, so it can show state). */
  until(check: () => boolean, timeoutMs: number, timeoutMessage: () => string): Promise<void> {
    if (check()) {
      return Promise.resolve();
    }
    if (this.#closedWith !== undefined) {
      return Promise.reject(new Error(this.#closedWith));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new WaitTimeoutError(timeoutMessage()));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Re-evaluates every waiter. */
  notify(): void {
    for (const w of [...this.#waiters]) {
      if (w.check()) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Rejects every pending waiter and all later ones with `message`. */
  close(message: string): void {
    this.#closedWith = message;
    for (const w of [...this.#waiters]) {
      this.#waiters.delete(w);
      clearTimeout(w.timer);
      w.reject(new Error(message));
    }
  }
}
