/**
 * An async FIFO: tasks run one at a time, in push order. A failing task does not stop the queue; its
 * error goes to the promise `push` returned. Used for the transaction queue and one queue per conference.
 */
export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #closed = false;

  get pending(): number {
    return this.#pending;
  }

  get closed(): boolean {
    return this.#closed;
  }

  push<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new Error('queue closed'));
    }
    this.#pending++;
    const run = this.#tail.then(task);
    this.#tail = run.then(
      () => {
        this.#pending--;
      },
      () => {
        this.#pending--;
      },
    );
    return run;
  }

  /** Resolves once every task pushed so far has finished. */
  drain(): Promise<void> {
    return this.#tail;
  }

  /** Refuses new tasks; already queued ones still run. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#tail;
  }
}
