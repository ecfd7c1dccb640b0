/**
 * One session's signalling data channel (protocol.md §5): frames in → parsed (both dialects) → handed to
 * the conference in arrival order; replies and SFU messages out in the client's current dialect (B until
 * the client speaks). Enforces the frame size (by the parser) and the per-session message rate, answers every
 * bad frame with an error, and runs the keep-alive (§5.5). Never throws on the frame path.
 *
 * Floods (protocol.md §5.1, util/messageBudget.ts): messages over the rate are dropped unparsed, answered with at
 * most one `M_LIMIT_EXCEEDED` error a second (a flood is not echoed back frame for frame); a session whose
 * dropped messages pile up past FLOOD_FACTOR × the rate (a tenth of the rate forgiven each second) is reported
 * once (`onFlood`: the conference hangs it up).
 */
import { parseDcFrame } from '../protocol/dc/parse.js';
import { serializeDc } from '../protocol/dc/serialize.js';
import type { DcErrcode, DcMessage, Dialect } from '../protocol/dc/types.js';
import type { Clock } from '../util/clock.js';
import { MessageBudget } from '../util/messageBudget.js';
import { KeepAlive } from './keepalive.js';

export interface DcChannelOptions {
  clock: Clock;
  limits: { maxBytes: number; maxListEntries: number; messagesPerSecond: number };
  keepalive: { intervalMs: number; timeoutMs: number };
  /** Writes a text frame; false when the channel is not open. */
  write: (text: string) => boolean;
  /** A valid client message, in arrival order (the conference queues it). */
  onMessage: (msg: DcMessage, dialect: Dialect) => void;
  onTimeout: () => void;
  /** The session went on sending past the rate beyond the flood bound (called once). */
  onFlood: () => void;
  /** The client's dialect changed (the SFU resends the full metadata in it). */
  onDialectChange: (dialect: Dialect) => void;
  count: (dialect: Dialect | 'unknown', kind: string, result: 'ok' | 'error') => void;
}

export class DcChannel {
  readonly #o: DcChannelOptions;
  readonly #budget: MessageBudget;
  readonly #keepalive: KeepAlive;
  #dialect: Dialect = 'B';
  #heard = false;

  constructor(opts: DcChannelOptions) {
    this.#o = opts;
    this.#budget = new MessageBudget(opts.limits.messagesPerSecond, opts.clock.now());
    this.#keepalive = new KeepAlive({
      clock: opts.clock,
      intervalMs: opts.keepalive.intervalMs,
      timeoutMs: opts.keepalive.timeoutMs,
      sendPing: () => {
        this.send({ kind: 'ping' });
      },
      onTimeout: opts.onTimeout,
    });
  }

  get dialect(): Dialect {
    return this.#dialect;
  }

  /** Starts the keep-alive (when m.call.answer is sent: a channel that never opens times out too). */
  start(): void {
    this.#keepalive.start();
  }

  stop(): void {
    this.#keepalive.stop();
  }

  /** One frame from the client. */
  onFrame(frame: string | Uint8Array): void {
    this.#keepalive.touch();
    const now = this.#o.clock.now();
    const admitted = this.#budget.admit(now);
    if (admitted !== 'ok') {
      if (admitted !== 'closed') {
        this.#o.count(this.#heard ? this.#dialect : 'unknown', 'rate_limited', 'error');
      }
      if (admitted === 'flood') {
        this.#o.onFlood();
      } else if (admitted === 'refused_reply') {
        this.error(undefined, 'M_LIMIT_EXCEEDED', 'too many data-channel messages');
      }
      return; // 'closed': being hung up, nothing more is applied
    }
    const r = parseDcFrame(frame, {
      maxBytes: this.#o.limits.maxBytes,
      maxListEntries: this.#o.limits.maxListEntries,
    });
    if (!r.ok) {
      if (r.dialect !== undefined) {
        this.#setDialect(r.dialect);
      }
      this.#o.count(r.dialect ?? 'unknown', 'invalid', 'error');
      this.error(r.id, r.errcode, r.error);
      return;
    }
    this.#setDialect(r.dialect);
    this.#o.count(r.dialect, r.message.kind, 'ok');
    this.#o.onMessage(r.message, r.dialect);
  }

  /** Sends a message in the client's dialect; false if it has no form there or the channel is closed. */
  send(msg: DcMessage): boolean {
    const text = serializeDc(msg, this.#dialect);
    return text !== undefined && this.#o.write(text);
  }

  ack(id: string | undefined): void {
    if (id !== undefined) {
      this.send({ kind: 'ack', id });
    }
  }

  error(
    id: string | undefined,
    errcode: DcErrcode,
    error: string,
    failed?: { stream_id: string; track_id: string }[],
  ): void {
    this.send({
      kind: 'error',
      ...(id !== undefined ? { id } : {}),
      errcode,
      error,
      ...(failed !== undefined ? { failed } : {}),
    });
  }

  #setDialect(d: Dialect): void {
    this.#heard = true;
    // Dialect A clients send `alive`; B (and not-yet-known) clients answer the SFU's pings.
    this.#keepalive.setPinging(d === 'B');
    if (d !== this.#dialect) {
      this.#dialect = d;
      this.#o.onDialectChange(d);
    }
  }
}
