/**
 * A Matrix user's device joining a conference through a focus, written from docs/protocol.md alone and speaking
 * only the real Client-Server HTTP API with its own access token:
 *
 * - membership: the per-device format (c) state event (§3.3) naming the focus as `focus_active`;
 * - to-device out (§4.1–4.2): `m.call.invite` with the offer and MSC3077 metadata, then its own candidates as
 *   batched `m.call.candidates` ending with `{candidate: ""}`, `m.call.select_answer`, `m.call.negotiate`,
 *   `m.call.hangup`; one FIFO, so the invite always precedes its candidates;
 * - to-device in: a bounded `/sync` long-poll (≤ 1 s per poll) collecting every to-device event; answers and
 *   candidates of our calls are applied to the peer.
 *
 * Everything the focus is obliged to send (§4.4: echoed call_id/conf_id, `dest_session_id` = our session,
 * `party_id`/`device_id` = the focus device, `version` "1", no `seq`, candidates only after the answer, known
 * hangup reasons, ...) is checked; each breach is appended to `violations` (tests assert it stays empty).
 * Client-side failures (HTTP errors, SDP the peer refused) go to `errors`.
 */
import { randomBytes } from 'node:crypto';
import { ClientHttp } from './matrix.js';
import type { LocalCandidate, OfferOptions, TestPeer } from '../harness/peers/types.js';

export const CALL_MEMBER_TYPE = 'org.matrix.msc3401.call.member';
export const FOCUS_TYPE = 'org.matrix.msc3898';
export const METADATA_KEY = 'org.matrix.msc3077.sdp_stream_metadata';
export const HANGUP_REASONS: readonly string[] = [
  'keep_alive_timeout',
  'user_hangup',
  'ice_failed',
  'unknown_error',
];
/** Upper bound of one `/sync` long-poll. */
export const SYNC_POLL_MS = 1000;
const SYNC_RETRY_MS = 250;
const DEFAULT_MEMBERSHIP_EXPIRES_MS = 14_400_000;

export interface FocusRef {
  user_id: string;
  device_id: string;
}

/** A to-device event as `/sync` returns it. */
export interface ToDeviceEvent {
  type: string;
  sender: string;
  content: Record<string, unknown>;
}

export interface CallClientOptions {
  hsUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
  peer: TestPeer;
  /** The device's default `sender_session_id` (default: random `s-<device>-<hex>`). */
  sessionId?: string;
  /** Own candidates gathered within this window go in one `m.call.candidates` (default 20 ms). */
  candidateBatchMs?: number;
  /** Number outgoing call events with `seq` 0, 1, 2... per call_id, as matrix-js-sdk does (default true). */
  seq?: boolean;
}

export interface MembershipOptions {
  /** `expires` (default 4 h). */
  expiresMs?: number;
  /** `call_id` (default `""`, the room-wide call). */
  callId?: string;
  /** `scope` (default `m.room`). */
  scope?: string;
  /** `created_ts` (default now). */
  createdTs?: number;
}

export interface InviteOptions {
  focus: FocusRef;
  confId: string;
  roomId?: string;
  callId?: string;
  sessionId?: string;
  /** MSC3077 stream metadata (default: derived from the offer's `a=msid` lines). */
  metadata?: Record<string, unknown>;
  offerOpts: OfferOptions;
  /** `lifetime` (default 60000). */
  lifetime?: number;
  /** Send `m.call.select_answer` naming the focus once the answer is applied (§10; default true). */
  selectAnswer?: boolean;
  /** Merged over the invite content last (negative tests). */
  extra?: Record<string, unknown>;
}

/** One call (call_id) this client placed. */
export interface CallState {
  readonly callId: string;
  readonly confId: string;
  readonly sessionId: string;
  readonly focus: FocusRef;
  readonly roomId: string | undefined;
  readonly selectAnswer: boolean;
  offerSdp: string;
  invites: number;
  answers: number;
  /** Next outgoing `seq`. */
  seq: number;
  answer: Record<string, unknown> | undefined;
  remoteCandidatesEnded: boolean;
  remoteHangup: Record<string, unknown> | undefined;
  localHangup: boolean;
  /** To-device `m.call.negotiate` offers sent and not answered yet. */
  pendingNegotiate: number;
}

interface SyncState {
  stop: boolean;
  abort: AbortController;
  retryTimer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;
  done: Promise<void>;
}

interface Waiter {
  check: () => boolean;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Read through a call so the compiler does not narrow `stop` across awaits. */
const stopped = (s: SyncState): boolean => s.stop;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function memberStateKey(userId: string, deviceId: string): string {
  return `_${userId}_${deviceId}_m.call`;
}

/** matrix-js-sdk style call id: time plus random letters. */
export function newCallId(): string {
  return `${Date.now()}${randomBytes(6).toString('base64url')}`;
}

/** MSC3077 metadata for the audio/video sections the offer sends (`a=msid:<stream> <track>`). */
export function metadataFromSdp(sdp: string, userId: string, deviceId: string): Record<string, unknown> {
  const streams: Record<string, { tracks: Record<string, { kind: string }> } & Record<string, unknown>> = {};
  for (const section of sdp.split(/\r?\n(?=m=)/)) {
    const kind = /^m=(audio|video) /.exec(section)?.[1];
    if (kind === undefined) {
      continue;
    }
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(section)?.[1] ?? 'sendrecv';
    const msid = /^a=msid:(\S+) (\S+)\r?$/m.exec(section);
    if ((direction !== 'sendrecv' && direction !== 'sendonly') || msid === null || msid[1] === '-') {
      continue;
    }
    const [, streamId, trackId] = msid as unknown as [string, string, string];
    streams[streamId] ??= {
      user_id: userId,
      device_id: deviceId,
      purpose: 'm.usermedia',
      audio_muted: false,
      video_muted: false,
      tracks: {},
    };
    streams[streamId].tracks[trackId] = { kind };
  }
  return streams;
}

export class CallClient {
  readonly userId: string;
  readonly deviceId: string;
  readonly peer: TestPeer;
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
  /** Replaces the default handling of an `m.call.negotiate` answer (`peer.setRemoteDescription`). */
  onNegotiateAnswer: ((content: Record<string, unknown>) => void | Promise<void>) | undefined;

  readonly #http: ClientHttp;
  readonly #calls = new Map<string, CallState>();
  readonly #foci = new Set<string>();
  readonly #waiters = new Set<Waiter>();
  readonly #batchMs: number;
  readonly #seq: boolean;
  #current: CallState | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #incoming: Promise<void> = Promise.resolve();
  #txn = 0;
  #since: string | undefined;
  #sync: SyncState | undefined;
  #batch: LocalCandidate[] = [];
  #batchTimer: NodeJS.Timeout | undefined;
  #candidatesHooked = false;
  #appliedNegotiations = 0;
  #closing: Promise<void> | undefined;

  constructor(opts: CallClientOptions) {
    this.userId = opts.userId;
    this.deviceId = opts.deviceId;
    this.peer = opts.peer;
    this.sessionId = opts.sessionId ?? `s-${opts.deviceId}-${randomBytes(4).toString('hex')}`;
    this.#batchMs = opts.candidateBatchMs ?? 20;
    this.#seq = opts.seq ?? true;
    this.#http = new ClientHttp(opts.hsUrl, opts.accessToken);
  }

  /** The call placed last. */
  get call(): CallState | undefined {
    return this.#current;
  }

  /** The `m.call.answer` content of the call placed last. */
  get answerContent(): Record<string, unknown> | undefined {
    return this.#current?.answer;
  }

  // ---- membership (§3.3) ----

  /** PUTs the format (c) per-device membership naming `focus`; returns the event id. */
  async publishMembership(roomId: string, focus: FocusRef, opts: MembershipOptions = {}): Promise<string> {
    const ref = { type: FOCUS_TYPE, user_id: focus.user_id, device_id: focus.device_id };
    const content = {
      application: 'm.call',
      call_id: opts.callId ?? '',
      scope: opts.scope ?? 'm.room',
      device_id: this.deviceId,
      focus_active: ref,
      foci_preferred: [ref],
      created_ts: opts.createdTs ?? Date.now(),
      expires: opts.expiresMs ?? DEFAULT_MEMBERSHIP_EXPIRES_MS,
    };
    return this.#putMemberState(roomId, content);
  }

  /** Leaves: the same state key with content `{}`. */
  async leaveMembership(roomId: string): Promise<string> {
    return this.#putMemberState(roomId, {});
  }

  async #putMemberState(roomId: string, content: Record<string, unknown>): Promise<string> {
    const path =
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/${encodeURIComponent(CALL_MEMBER_TYPE)}/` +
      encodeURIComponent(memberStateKey(this.userId, this.deviceId));
    const res = await this.#http.request('PUT', path, content);
    if (!isObject(res) || typeof res['event_id'] !== 'string') {
      throw new Error(`state PUT answered ${JSON.stringify(res)}`);
    }
    return res['event_id'];
  }

  // ---- /sync ----

  /** Starts the long-poll loop (no-op if running). The first request is an initial sync. */
  startSync(): void {
    if (this.#sync !== undefined || this.#closing !== undefined) {
      return;
    }
    const state: SyncState = {
      stop: false,
      abort: new AbortController(),
      retryTimer: undefined,
      wake: undefined,
      done: Promise.resolve(),
    };
    state.done = this.#syncLoop(state);
    this.#sync = state;
  }

  /** Stops the loop, aborting the poll in flight; resolves once it has ended. */
  async stopSync(): Promise<void> {
    const state = this.#sync;
    if (state === undefined) {
      return;
    }
    this.#sync = undefined;
    state.stop = true;
    state.abort.abort();
    clearTimeout(state.retryTimer);
    state.wake?.();
    await state.done;
  }

  async #syncLoop(state: SyncState): Promise<void> {
    while (!state.stop) {
      const query =
        this.#since === undefined ? '' : `?since=${encodeURIComponent(this.#since)}&timeout=${SYNC_POLL_MS}`;
      try {
        const body = await this.#http.request('GET', `/_matrix/client/v3/sync${query}`, undefined, {
          timeoutMs: SYNC_POLL_MS + 10_000,
          signal: state.abort.signal,
        });
        if (stopped(state)) {
          // Not adopting next_batch: the next poll gets these events again.
          return;
        }
        if (!isObject(body) || typeof body['next_batch'] !== 'string') {
          throw new Error(`/sync answered ${JSON.stringify(body)}`);
        }
        const toDevice = body['to_device'];
        const events = isObject(toDevice) && Array.isArray(toDevice['events']) ? toDevice['events'] : [];
        this.#since = body['next_batch'];
        for (const ev of events as unknown[]) {
          this.#receive(ev);
        }
      } catch (err) {
        if (stopped(state)) {
          return;
        }
        this.errors.push(`sync: ${describe(err)}`);
        await new Promise<void>((resolve) => {
          state.wake = resolve;
          state.retryTimer = setTimeout(resolve, SYNC_RETRY_MS);
        });
        state.wake = undefined;
      }
    }
  }

  /** Resolves with the first event ever received (before or after the call) of `type` matching `predicate`. */
  async waitForToDevice(
    type: string,
    predicate: (ev: ToDeviceEvent) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<ToDeviceEvent> {
    const find = (): ToDeviceEvent | undefined =>
      this.received.find((ev) => ev.type === type && predicate(ev));
    await this.#waitUntil(`to-device ${type}`, timeoutMs, () => find() !== undefined);
    return find()!;
  }

  // ---- calls (§4) ----

  /**
   * Creates the peer's offer and sends `m.call.invite` to the focus device, then trickles the peer's candidates.
   * Starts `/sync` if needed. Reusing the current `callId` and session re-invites (renegotiation, §4.3).
   */
  async invite(o: InviteOptions): Promise<CallState> {
    this.startSync();
    const offerSdp = await this.peer.createOffer(o.offerOpts);
    const callId = o.callId ?? newCallId();
    const sessionId = o.sessionId ?? this.sessionId;
    let call = this.#calls.get(callId);
    if (call?.sessionId !== sessionId || call.confId !== o.confId) {
      call = {
        callId,
        confId: o.confId,
        sessionId,
        focus: { user_id: o.focus.user_id, device_id: o.focus.device_id },
        roomId: o.roomId,
        selectAnswer: o.selectAnswer ?? true,
        offerSdp,
        invites: 0,
        answers: 0,
        seq: 0,
        answer: undefined,
        remoteCandidatesEnded: false,
        remoteHangup: undefined,
        localHangup: false,
        pendingNegotiate: 0,
      };
      this.#calls.set(callId, call);
    }
    call.offerSdp = offerSdp;
    call.invites++;
    this.#current = call;
    this.#foci.add(call.focus.user_id);
    const content: Record<string, unknown> = {
      ...this.#base(call),
      invitee: call.focus.user_id,
      lifetime: o.lifetime ?? 60_000,
      offer: { type: 'offer', sdp: offerSdp },
      [METADATA_KEY]: o.metadata ?? metadataFromSdp(offerSdp, this.userId, this.deviceId),
      ...o.extra,
    };
    await this.#enqueue('m.call.invite', call.focus, content);
    this.#hookCandidates();
    return call;
  }

  /** Resolves with the `m.call.answer` content once it has been applied to the peer. */
  async waitForAnswer(timeoutMs: number): Promise<Record<string, unknown>> {
    await this.#waitUntil('m.call.answer', timeoutMs, () => this.#current?.answer !== undefined);
    return this.#current!.answer!;
  }

  /** Resolves with the first `m.call.hangup` received for the current call. */
  async waitForHangup(timeoutMs: number): Promise<Record<string, unknown>> {
    await this.#waitUntil('m.call.hangup', timeoutMs, () => this.#current?.remoteHangup !== undefined);
    return this.#current!.remoteHangup!;
  }

  /** Sends `m.call.hangup` for the current call. */
  async hangup(reason = 'user_hangup'): Promise<void> {
    const call = this.#requireCall();
    call.localHangup = true;
    await this.#enqueue('m.call.hangup', call.focus, { ...this.#base(call), reason });
  }

  /** Sends `m.call.select_answer` for the current call (sent automatically unless `selectAnswer: false`). */
  async selectAnswer(partyId?: string): Promise<void> {
    const call = this.#requireCall();
    await this.#enqueue('m.call.select_answer', call.focus, {
      ...this.#base(call),
      selected_party_id: partyId ?? call.focus.device_id,
    });
  }

  /**
   * Sends a to-device `m.call.negotiate` offer for the current call (create it with `peer.createOffer`). The
   * answer is applied to the peer when it arrives (or given to `onNegotiateAnswer`); see `waitForNegotiateAnswer`.
   */
  async negotiate(offerSdp: string, metadata?: Record<string, unknown>): Promise<void> {
    const call = this.#requireCall();
    call.pendingNegotiate++;
    await this.#enqueue('m.call.negotiate', call.focus, {
      ...this.#base(call),
      description: { type: 'offer', sdp: offerSdp },
      [METADATA_KEY]: metadata ?? metadataFromSdp(offerSdp, this.userId, this.deviceId),
    });
  }

  /** Resolves with the `count`-th `m.call.negotiate` answer (1-based) once it has been applied. */
  async waitForNegotiateAnswer(timeoutMs: number, count = 1): Promise<Record<string, unknown>> {
    await this.#waitUntil('m.call.negotiate answer', timeoutMs, () => this.#appliedNegotiations >= count);
    return this.negotiateAnswers[count - 1]!;
  }

  /** Raw to-device send (no fields added), to the current call's focus unless `to` is given. */
  async sendToDevice(type: string, content: Record<string, unknown>, to?: FocusRef): Promise<void> {
    const target = to ?? this.#current?.focus;
    if (target === undefined) {
      throw new Error('sendToDevice: no focus to send to (no call yet, and no `to`)');
    }
    await this.#enqueue(type, target, content);
  }

  /** Base content fields of our outgoing call events (§4.1); takes the next `seq`. */
  #base(call: CallState): Record<string, unknown> {
    const base: Record<string, unknown> = {
      call_id: call.callId,
      conf_id: call.confId,
      party_id: this.deviceId,
      version: '1',
      device_id: this.deviceId,
      sender_session_id: call.sessionId,
      dest_session_id: 'sfu',
    };
    if (this.#seq) {
      base['seq'] = call.seq++;
    }
    if (call.roomId !== undefined) {
      base['room_id'] = call.roomId;
    }
    return base;
  }

  #requireCall(): CallState {
    if (this.#current === undefined) {
      throw new Error('no call: invite() first');
    }
    return this.#current;
  }

  /** One FIFO for every to-device send; the returned promise settles with this message's PUT. */
  #enqueue(type: string, to: FocusRef, content: Record<string, unknown>): Promise<void> {
    const txnId = `${this.deviceId}.${Date.now()}.${++this.#txn}`;
    const run = async (): Promise<void> => {
      const path = `/_matrix/client/v3/sendToDevice/${encodeURIComponent(type)}/${encodeURIComponent(txnId)}`;
      await this.#http.request('PUT', path, { messages: { [to.user_id]: { [to.device_id]: content } } });
      this.sent.push({ type, to, content });
    };
    const p = this.#sendChain.then(run);
    this.#sendChain = p.catch(() => undefined);
    return p;
  }

  #hookCandidates(): void {
    if (this.#candidatesHooked) {
      return;
    }
    this.#candidatesHooked = true;
    this.peer.onCandidate((c) => {
      if (this.#closing !== undefined) {
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
        this.#flushCandidates();
      } else {
        this.#batchTimer ??= setTimeout(() => {
          this.#flushCandidates();
        }, this.#batchMs);
      }
    });
  }

  #flushCandidates(): void {
    clearTimeout(this.#batchTimer);
    this.#batchTimer = undefined;
    const call = this.#current;
    if (this.#batch.length === 0 || call === undefined) {
      return;
    }
    const candidates = this.#batch;
    this.#batch = [];
    this.#enqueue('m.call.candidates', call.focus, { ...this.#base(call), candidates }).catch(
      (err: unknown) => {
        this.errors.push(`m.call.candidates: ${describe(err)}`);
      },
    );
  }

  // ---- incoming ----

  #receive(raw: unknown): void {
    if (
      !isObject(raw) ||
      typeof raw['type'] !== 'string' ||
      typeof raw['sender'] !== 'string' ||
      !isObject(raw['content'])
    ) {
      this.violations.push(`malformed to-device event in /sync: ${JSON.stringify(raw)}`);
      return;
    }
    const ev: ToDeviceEvent = { type: raw['type'], sender: raw['sender'], content: raw['content'] };
    this.received.push(ev);
    const callId = ev.content['call_id'];
    const call = typeof callId === 'string' ? this.#calls.get(callId) : undefined;
    if (call === undefined) {
      if (this.#foci.has(ev.sender) && ev.type.startsWith('m.call.')) {
        this.violations.push(`${ev.type} from the focus for unknown call_id ${JSON.stringify(callId)}`);
      }
    } else {
      this.#incoming = this.#incoming
        .then(() => this.#handle(ev, call))
        .catch((err: unknown) => {
          this.errors.push(`${ev.type}: ${describe(err)}`);
        })
        .finally(() => {
          this.#notify();
        });
    }
    this.#notify();
  }

  async #handle(ev: ToDeviceEvent, call: CallState): Promise<void> {
    const c = ev.content;
    const bad = (why: string): void => {
      this.violations.push(`${ev.type} (call ${call.callId}): ${why}`);
    };
    this.#checkBase(ev, call, bad);
    switch (ev.type) {
      case 'm.call.answer': {
        call.answers++;
        if (call.answers > call.invites) {
          bad(`answer #${call.answers} to ${call.invites} invite(s)`);
        }
        if (call.remoteHangup !== undefined) {
          bad('answer after the focus hung up');
        }
        const answer = c['answer'];
        if (!isObject(answer) || answer['type'] !== 'answer' || typeof answer['sdp'] !== 'string') {
          bad(`answer is not {type: "answer", sdp}: ${JSON.stringify(answer)}`);
          return;
        }
        if (!isObject(c[METADATA_KEY])) {
          bad(`${METADATA_KEY} missing or not an object`);
        }
        const first = call.answer === undefined;
        await this.peer.setRemoteDescription({ type: 'answer', sdp: answer['sdp'] });
        call.answer = c;
        if (first && call.selectAnswer && !call.localHangup) {
          await this.#enqueue('m.call.select_answer', call.focus, {
            ...this.#base(call),
            selected_party_id: call.focus.device_id,
          });
        }
        return;
      }
      case 'm.call.candidates': {
        if (call.answers === 0) {
          bad('candidates before the answer');
        }
        const list = c['candidates'];
        if (!Array.isArray(list) || list.length === 0) {
          bad(`candidates is not a non-empty array: ${JSON.stringify(list)}`);
          return;
        }
        for (const cand of list as unknown[]) {
          if (!isObject(cand) || typeof cand['candidate'] !== 'string') {
            bad(`bad candidate ${JSON.stringify(cand)}`);
            continue;
          }
          if (call.remoteCandidatesEnded && cand['candidate'] !== '') {
            bad('candidate after the end-of-candidates marker');
          }
          if (cand['candidate'] === '') {
            call.remoteCandidatesEnded = true;
          }
          await this.peer.addIceCandidate({
            candidate: cand['candidate'],
            ...(typeof cand['sdpMid'] === 'string' ? { sdpMid: cand['sdpMid'] } : {}),
            ...(typeof cand['sdpMLineIndex'] === 'number' ? { sdpMLineIndex: cand['sdpMLineIndex'] } : {}),
            ...(typeof cand['usernameFragment'] === 'string'
              ? { usernameFragment: cand['usernameFragment'] }
              : {}),
          });
        }
        return;
      }
      case 'm.call.hangup': {
        const reason = c['reason'];
        if (typeof reason !== 'string' || !HANGUP_REASONS.includes(reason)) {
          bad(`reason ${JSON.stringify(reason)} is not one of ${HANGUP_REASONS.join(', ')}`);
        }
        const error = c['org.matrix.msc3898.error'];
        if (reason === 'unknown_error') {
          if (
            !isObject(error) ||
            typeof error['errcode'] !== 'string' ||
            typeof error['error'] !== 'string'
          ) {
            bad(`unknown_error without org.matrix.msc3898.error {errcode, error}: ${JSON.stringify(error)}`);
          }
        }
        if (call.remoteHangup !== undefined) {
          bad('second hangup');
        }
        call.remoteHangup ??= c;
        this.hangups.push(c);
        return;
      }
      case 'm.call.negotiate': {
        const d = c['description'];
        if (!isObject(d) || d['type'] !== 'answer' || typeof d['sdp'] !== 'string') {
          bad(`description is not {type: "answer", sdp}: ${JSON.stringify(d)}`);
          return;
        }
        if (call.pendingNegotiate === 0) {
          bad('negotiate answer without a to-device offer of ours');
        } else {
          call.pendingNegotiate--;
        }
        if (!isObject(c[METADATA_KEY])) {
          bad(`${METADATA_KEY} missing or not an object`);
        }
        this.negotiateAnswers.push(c);
        try {
          if (this.onNegotiateAnswer !== undefined) {
            await this.onNegotiateAnswer(c);
          } else {
            await this.peer.setRemoteDescription({ type: 'answer', sdp: d['sdp'] });
          }
        } finally {
          this.#appliedNegotiations++;
        }
        return;
      }
      default:
        bad('unexpected event type from the focus');
    }
  }

  /** §4.4 base fields: echoed exactly, from the focus device, no `seq`. */
  #checkBase(ev: ToDeviceEvent, call: CallState, bad: (why: string) => void): void {
    const c = ev.content;
    const expect = (field: string, want: unknown): void => {
      if (c[field] !== want) {
        bad(`${field} is ${JSON.stringify(c[field])}, expected ${JSON.stringify(want)}`);
      }
    };
    if (ev.sender !== call.focus.user_id) {
      bad(`sender ${ev.sender} is not the focus ${call.focus.user_id}`);
    }
    expect('conf_id', call.confId);
    expect('dest_session_id', call.sessionId);
    expect('party_id', call.focus.device_id);
    expect('device_id', call.focus.device_id);
    expect('version', '1');
    if (typeof c['sender_session_id'] !== 'string' || c['sender_session_id'] === '') {
      bad(`sender_session_id ${JSON.stringify(c['sender_session_id'])} is not a non-empty string`);
    }
    if ('seq' in c) {
      bad(`carries seq ${JSON.stringify(c['seq'])} (the focus omits seq, §4.4)`);
    }
  }

  // ---- waiting, closing ----

  #waitUntil(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
    if (check()) {
      return Promise.resolve();
    }
    if (this.#closing !== undefined) {
      return Promise.reject(new Error(`${this.deviceId}: ${what}: client closed`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new Error(
              `${this.deviceId}: no ${what} within ${timeoutMs} ms (received: ${this.received
                .map((e) => e.type)
                .join(
                  ', ',
                )}; violations: ${this.violations.join(' | ')}; errors: ${this.errors.join(' | ')})`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  #notify(): void {
    for (const w of [...this.#waiters]) {
      if (w.check()) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve();
      }
    }
  }

  /** Stops sync, drops unsent candidates, closes HTTP and the peer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearTimeout(this.#batchTimer);
      this.#batchTimer = undefined;
      this.#batch = [];
      for (const w of [...this.#waiters]) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.reject(new Error(`${this.deviceId}: client closed`));
      }
      await this.stopSync();
      await this.#sendChain;
      await this.#incoming;
      this.#http.close();
      await this.peer.close();
    })();
    return this.#closing;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
