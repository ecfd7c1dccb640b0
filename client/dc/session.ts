/**
 * The client side of the signalling data channel (protocol.md §5) over a `CallPeer`: reads every focus frame
 * (breaches go to `violations`), answers every focus offer in the dialect it came in (§5.4), answers B pings with
 * `m.call.pong`, and once the client has spoken dialect A sends `alive` every interval (§5.5), so a call outlives
 * `keepalive.timeout_s`.
 */
import type { StreamMetadata } from '../metadata.js';
import type { CallPeer } from '../peer.js';
import { readFocusFrame } from './read.js';
import type { Dialect, FocusMessage } from './types.js';
import { aliveFrame, sdpFrame } from './write.js';

/** `keepalive.interval_s` (§5.5). */
export const ALIVE_INTERVAL_MS = 5000;

export interface DcSessionOptions {
  /** Answer focus offers automatically (default true). */
  autoAnswer?: boolean;
  /** Metadata attached to dialect-B answers (B always carries the client's own metadata). */
  ownMetadata?: () => StreamMetadata;
  aliveIntervalMs?: number;
}

export class DcSession {
  /** Every focus message read, in order. */
  readonly messages: FocusMessage[] = [];
  /** Focus frames that break §5. */
  readonly violations: string[] = [];
  /** Offers this session could not answer. */
  readonly errors: string[] = [];

  readonly #peer: CallPeer;
  readonly #opts: DcSessionOptions;
  readonly #listeners = new Set<(m: FocusMessage, dialect: Dialect) => void>();
  #answered = 0;
  #chain: Promise<void> = Promise.resolve();
  #alive: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(peer: CallPeer, opts: DcSessionOptions = {}) {
    this.#peer = peer;
    this.#opts = opts;
    peer.onData((text) => {
      this.#read(text);
    });
  }

  /** Focus offers answered so far. */
  get answered(): number {
    return this.#answered;
  }

  /** The latest metadata snapshot the focus sent (`{}` before the first). */
  get metadata(): StreamMetadata {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m?.kind === 'metadata') {
        return m.metadata;
      }
    }
    return {};
  }

  /** Calls `fn` for every later focus message. */
  onMessage(fn: (m: FocusMessage, dialect: Dialect) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Sends a frame; a dialect-A frame switches the keep-alive to `alive` (§5.5). Throws unless the channel is open. */
  send(frame: string, dialect: Dialect): void {
    if (dialect === 'A') {
      this.markSpokeA();
    }
    this.#peer.sendData(frame);
  }

  /** From now on the client speaks dialect A: it sends `alive` every interval while connected. */
  markSpokeA(): void {
    if (this.#alive !== undefined || this.#closed) {
      return;
    }
    this.#alive = setInterval(() => {
      if (this.#peer.connectionState() === 'connected') {
        this.#trySend(aliveFrame('A'));
      }
    }, this.#opts.aliveIntervalMs ?? ALIVE_INTERVAL_MS);
    // In Node, do not hold the process open for the keep-alive alone.
    (this.#alive as { unref?: () => void }).unref?.();
  }

  /**
   * Runs `fn` once every focus offer queued so far is answered, and holds offers arriving meanwhile until it
   * ends: a client offer (`publish`, `unpublish`) and a focus offer never cross.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Stops the keep-alive and ignores later frames. Idempotent. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#alive);
    this.#alive = undefined;
  }

  #read(text: string): void {
    if (this.#closed) {
      return;
    }
    const f = readFocusFrame(text);
    if (!f.ok) {
      this.violations.push(f.violation);
      return;
    }
    const m = f.message;
    this.messages.push(m);
    if (m.kind === 'ping') {
      this.#trySend(aliveFrame('B'));
    }
    if (m.kind === 'offer' && this.#opts.autoAnswer !== false) {
      this.#chain = this.#chain
        .then(() => this.#answer(m, f.dialect))
        .catch((err: unknown) => {
          this.errors.push(
            `answering offer ${m.id ?? ''}: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
    }
    for (const fn of this.#listeners) {
      fn(m, f.dialect);
    }
  }

  async #answer(m: Extract<FocusMessage, { kind: 'offer' }>, dialect: Dialect): Promise<void> {
    await this.#peer.setRemoteDescription({ type: 'offer', sdp: m.sdp });
    const sdp = await this.#peer.createAnswer();
    const metadata = dialect === 'B' ? (this.#opts.ownMetadata?.() ?? {}) : undefined;
    this.#peer.sendData(
      sdpFrame(dialect, 'answer', sdp, {
        ...(m.id === undefined ? {} : { id: m.id }),
        ...(metadata === undefined ? {} : { metadata }),
      }),
    );
    this.#answered++;
  }

  #trySend(frame: string): void {
    try {
      this.#peer.sendData(frame);
    } catch {
      // the channel is closing
    }
  }
}
