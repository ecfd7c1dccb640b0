/**
 * A Matrix user's device joining a conference through a focus, written from docs/protocol.md alone and speaking
 * only the real Client-Server HTTP API with its own access token:
 *
 * - membership (§3): a `MembershipWriter` (format (c) by default) naming the focus;
 * - to-device out and in (§4): the call exchange of callExchange.ts;
 * - the inbox: a bounded `/sync` long-poll (≤ 1 s per poll) collecting every to-device event.
 *
 * Everything the focus is obliged to send (§4.4: echoed call_id/conf_id, `dest_session_id` = our session,
 * `party_id`/`device_id` = the focus device, `version` "1", no `seq`, candidates only after the answer, known
 * hangup reasons, ...) is checked; each breach is appended to `violations` (tests assert it stays empty).
 * Client-side failures (HTTP errors, SDP the peer refused) go to `errors`.
 */
import { CallExchange, type CallState, type InviteOptions, type ToDeviceEvent } from './callExchange.js';
import { FocusRefusedError } from './errors.js';
import { randomHex } from './ids.js';
import { MatrixApi, MatrixHttp, type FetchLike } from './matrix.js';
import {
  formatC,
  type FocusRef,
  type MembershipOptions,
  type MembershipWrite,
  type MembershipWriter,
} from './membership.js';
import { DEFAULT_STICKY_MS, formatD } from './membershipD.js';
import type { CallPeer } from './peer.js';
import { SyncLoop } from './sync.js';
import { Waiters } from './waiters.js';

export interface CallClientOptions<P extends CallPeer = CallPeer> {
  hsUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
  peer: P;
  /** The device's default `sender_session_id` (default: random `s-<device>-<hex>`). */
  sessionId?: string;
  /** Own candidates gathered within this window go in one `m.call.candidates` (default 20 ms). */
  candidateBatchMs?: number;
  /** Number outgoing call events with `seq` 0, 1, 2... per call_id, as matrix-js-sdk does (default true). */
  seq?: boolean;
  /** The membership format written by `publishMembership` (default format (c)). */
  membership?: MembershipWriter;
  /** Replaces the global `fetch` (e.g. a browser's bound fetch, or a recording fake). */
  fetch?: FetchLike;
}

export class CallClient<P extends CallPeer = CallPeer> {
  readonly userId: string;
  readonly deviceId: string;
  readonly peer: P;
  readonly sessionId: string;
  /** Every to-device event received, in order. */
  readonly received: ToDeviceEvent[] = [];
  /** Every to-device event sent (after the homeserver accepted it), in order. */
  readonly sent: { type: string; to: FocusRef; content: Record<string, unknown> }[] = [];
  /** Breaches of what protocol.md obliges the focus to send. */
  readonly violations: string[] = [];
  /** Client-side failures: HTTP errors, descriptions or candidates the peer refused. */
  readonly errors: string[] = [];
  /** `m.call.hangup` contents received for our calls. */
  readonly hangups: Record<string, unknown>[] = [];
  /** `m.call.negotiate` answers received. */
  readonly negotiateAnswers: Record<string, unknown>[] = [];

  readonly #http: MatrixHttp;
  readonly #api: MatrixApi;
  readonly #exchange: CallExchange;
  readonly #sync: SyncLoop;
  readonly #waiters = new Waiters();
  readonly #changeListeners = new Set<() => void>();
  readonly #membership: MembershipWriter;
  /** The format (d) writer used when a join asks for `sticky` (it keeps the sticky key until the leave). */
  #stickyWriter: MembershipWriter | undefined;
  /** The writer of the last join (the leave uses the same format). */
  #joinedWith: MembershipWriter | undefined;
  #txn = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: CallClientOptions<P>) {
    this.userId = opts.userId;
    this.deviceId = opts.deviceId;
    this.peer = opts.peer;
    this.sessionId = opts.sessionId ?? `s-${opts.deviceId}-${randomHex(4)}`;
    this.#membership = opts.membership ?? formatC;
    this.#http = new MatrixHttp(opts.hsUrl, opts.accessToken, opts.fetch);
    this.#api = new MatrixApi(this.#http);
    const notify = (): void => {
      this.#waiters.notify();
      for (const fn of [...this.#changeListeners]) {
        fn();
      }
    };
    this.#exchange = new CallExchange({
      api: this.#api,
      peer: opts.peer,
      userId: opts.userId,
      deviceId: opts.deviceId,
      sessionId: this.sessionId,
      candidateBatchMs: opts.candidateBatchMs ?? 20,
      seq: opts.seq ?? true,
      record: this,
      notify,
    });
    this.#sync = new SyncLoop(
      this.#api,
      (raw) => {
        this.#exchange.receive(raw);
      },
      (why) => {
        this.errors.push(why);
      },
    );
  }

  /** The call placed last. */
  /** Requests from now on go with `keepalive` (see MatrixHttp.keepalive). */
  set keepaliveRequests(on: boolean) {
    this.#http.keepalive = on;
  }

  get call(): CallState | undefined {
    return this.#exchange.current;
  }

  /** The `m.call.answer` content of the call placed last. */
  get answerContent(): Record<string, unknown> | undefined {
    return this.#exchange.current?.answer;
  }

  /** Calls `fn` after every change of the call state (an answer, candidates, a hangup...); returns the remover. */
  onChange(fn: () => void): () => void {
    this.#changeListeners.add(fn);
    return () => this.#changeListeners.delete(fn);
  }

  /** Replaces the default handling of an `m.call.negotiate` answer (`peer.setRemoteDescription`). */
  get onNegotiateAnswer(): ((content: Record<string, unknown>) => void | Promise<void>) | undefined {
    return this.#exchange.onNegotiateAnswer;
  }

  set onNegotiateAnswer(fn: ((content: Record<string, unknown>) => void | Promise<void>) | undefined) {
    this.#exchange.onNegotiateAnswer = fn;
  }

  // ---- membership (§3) ----

  /** Writes the membership naming `focus` (format (c) unless another writer was given); returns the event id. */
  async publishMembership(roomId: string, focus: FocusRef, opts: MembershipOptions = {}): Promise<string> {
    const writer =
      opts.sticky === undefined
        ? this.#membership
        : (this.#stickyWriter ??= formatD(opts.sticky.durationMs ?? DEFAULT_STICKY_MS));
    this.#joinedWith = writer;
    return this.#write(roomId, writer.join(this, focus, opts, Date.now()));
  }

  /** Leaves in the format of the last join (format (c): the same state key with content `{}`). */
  async leaveMembership(roomId: string): Promise<string> {
    const writer = this.#joinedWith ?? this.#membership;
    this.#joinedWith = undefined;
    return this.#write(roomId, writer.leave(this));
  }

  async #write(roomId: string, w: MembershipWrite): Promise<string> {
    if (w.kind === 'state') {
      return this.#api.putState(roomId, w.eventType, w.stateKey, w.content);
    }
    const txnId = `${this.deviceId}.m.${Date.now()}.${++this.#txn}`;
    return this.#api.sendEvent(roomId, w.eventType, txnId, w.content, w.query);
  }

  // ---- /sync ----

  /** Starts the long-poll loop (no-op if running). The first request is an initial sync. */
  startSync(): void {
    if (this.#closing === undefined) {
      this.#sync.start();
    }
  }

  /** Stops the loop, aborting the poll in flight; resolves once it has ended. */
  async stopSync(): Promise<void> {
    await this.#sync.stop();
  }

  /** Resolves with the first event ever received (before or after the call) of `type` matching `predicate`. */
  async waitForToDevice(
    type: string,
    predicate: (ev: ToDeviceEvent) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ToDeviceEvent> {
    let found: ToDeviceEvent | undefined;
    await this.#waitUntil(`to-device ${type}`, timeoutMs, () => {
      found = this.received.find((ev) => ev.type === type && predicate(ev));
      return found !== undefined;
    });
    return found as ToDeviceEvent;
  }

  // ---- calls (§4) ----

  /**
   * Creates the peer's offer and sends `m.call.invite` to the focus device, then trickles the peer's candidates.
   * Starts `/sync` if needed. Reusing the current `callId` and session re-invites (renegotiation, §4.3).
   */
  async invite(o: InviteOptions): Promise<CallState> {
    this.startSync();
    return this.#exchange.invite(o);
  }

  /**
   * Resolves with the `m.call.answer` content once it has been applied to the peer. Rejects with a
   * FocusRefusedError as soon as the focus hangs the call up instead (its refusal: e.g. `M_FORBIDDEN`, carried
   * in `org.matrix.msc3898.error`), else with an Error after `timeoutMs`.
   */
  async waitForAnswer(timeoutMs: number): Promise<Record<string, unknown>> {
    let answer: Record<string, unknown> | undefined;
    let hangup: Record<string, unknown> | undefined;
    await this.#waitUntil('m.call.answer', timeoutMs, () => {
      answer = this.#exchange.current?.answer;
      hangup = this.#exchange.current?.remoteHangup;
      return answer !== undefined || hangup !== undefined;
    });
    if (answer === undefined) {
      throw FocusRefusedError.fromHangup(hangup ?? {});
    }
    return answer;
  }

  /** Resolves with the first `m.call.hangup` received for the current call. */
  async waitForHangup(timeoutMs: number): Promise<Record<string, unknown>> {
    let hangup: Record<string, unknown> | undefined;
    await this.#waitUntil('m.call.hangup', timeoutMs, () => {
      hangup = this.#exchange.current?.remoteHangup;
      return hangup !== undefined;
    });
    return hangup as Record<string, unknown>;
  }

  /** Sends `m.call.hangup` for the current call. */
  async hangup(reason = 'user_hangup'): Promise<void> {
    await this.#exchange.hangup(reason);
  }

  /** Sends `m.call.select_answer` for the current call (sent automatically unless `selectAnswer: false`). */
  async selectAnswer(partyId?: string): Promise<void> {
    await this.#exchange.selectAnswer(partyId);
  }

  /**
   * Sends a to-device `m.call.negotiate` offer for the current call (create it with `peer.createOffer`). The
   * answer is applied to the peer when it arrives (or given to `onNegotiateAnswer`); see `waitForNegotiateAnswer`.
   */
  async negotiate(offerSdp: string, metadata?: Record<string, unknown>): Promise<void> {
    await this.#exchange.negotiate(offerSdp, metadata);
  }

  /** Resolves with the `count`-th `m.call.negotiate` answer (1-based) once it has been applied. */
  async waitForNegotiateAnswer(timeoutMs: number, count = 1): Promise<Record<string, unknown>> {
    await this.#waitUntil(
      'm.call.negotiate answer',
      timeoutMs,
      () => this.#exchange.appliedNegotiations >= count,
    );
    return this.negotiateAnswers[count - 1] as Record<string, unknown>;
  }

  /** Raw to-device send (no fields added), to the current call's focus unless `to` is given. */
  async sendToDevice(type: string, content: Record<string, unknown>, to?: FocusRef): Promise<void> {
    await this.#exchange.sendRaw(type, content, to);
  }

  // ---- waiting, closing ----

  #waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
    if (this.#closing !== undefined && !check()) {
      return Promise.reject(new Error(`${this.deviceId}: ${what}: client closed`));
    }
    return this.#waiters.until(
      check,
      timeoutMs,
      () =>
        `${this.deviceId}: no ${what} within ${timeoutMs} ms (received: ${this.received
          .map((e) => e.type)
          .join(', ')}; violations: ${this.violations.join(' | ')}; errors: ${this.errors.join(' | ')})`,
    );
  }

  /** Stops sync, drops unsent candidates, aborts HTTP in flight and closes the peer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#waiters.close(`${this.deviceId}: client closed`);
      this.#changeListeners.clear();
      const exchange = this.#exchange.close();
      await this.stopSync();
      await exchange;
      this.#http.close();
      await this.peer.close();
    })();
    return this.#closing;
  }
}
