/**
 * The to-device inbox: a `/sync` long-poll loop (each poll ≤ SYNC_POLL_MS) handing every to-device event to
 * `onEvent` in order. A failed poll is reported to `onError` and retried after SYNC_RETRY_MS; stopping aborts the
 * poll in flight and does not adopt its `next_batch`, so nothing received is lost for a later loop.
 */
import { describeError } from './ids.js';
import type { MatrixApi } from './matrix.js';

/** Upper bound of one `/sync` long-poll. */
export const SYNC_POLL_MS = 1000;
export const SYNC_RETRY_MS = 250;

interface LoopState {
  stop: boolean;
  abort: AbortController;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  wake: (() => void) | undefined;
  done: Promise<void>;
}

/** Read through a call so the compiler does not narrow `stop` across awaits. */
const stopped = (s: LoopState): boolean => s.stop;

export class SyncLoop {
  readonly #api: MatrixApi;
  readonly #onEvent: (raw: unknown) => void;
  readonly #onError: (why: string) => void;
  #since: string | undefined;
  #state: LoopState | undefined;

  constructor(api: MatrixApi, onEvent: (raw: unknown) => void, onError: (why: string) => void) {
    this.#api = api;
    this.#onEvent = onEvent;
    this.#onError = onError;
  }

  get running(): boolean {
    return this.#state !== undefined;
  }

  /** Starts the loop (no-op if running). The first request of a client is an initial sync. */
  start(): void {
    if (this.#state !== undefined) {
      return;
    }
    const state: LoopState = {
      stop: false,
      abort: new AbortController(),
      retryTimer: undefined,
      wake: undefined,
      done: Promise.resolve(),
    };
    state.done = this.#run(state);
    this.#state = state;
  }

  /** Stops the loop, aborting the poll in flight; resolves once it has ended. */
  async stop(): Promise<void> {
    const state = this.#state;
    if (state === undefined) {
      return;
    }
    this.#state = undefined;
    state.stop = true;
    state.abort.abort();
    clearTimeout(state.retryTimer);
    state.wake?.();
    await state.done;
  }

  async #run(state: LoopState): Promise<void> {
    while (!state.stop) {
      try {
        const res = await this.#api.sync(this.#since, SYNC_POLL_MS, state.abort.signal);
        if (stopped(state)) {
          // Not adopting next_batch: the next poll gets these events again.
          return;
        }
        this.#since = res.nextBatch;
        for (const ev of res.toDevice) {
          this.#onEvent(ev);
        }
      } catch (err) {
        if (stopped(state)) {
          return;
        }
        this.#onError(`sync: ${describeError(err)}`);
        await new Promise<void>((resolve) => {
          state.wake = resolve;
          state.retryTimer = setTimeout(resolve, SYNC_RETRY_MS);
        });
        state.wake = undefined;
      }
    }
  }
}
