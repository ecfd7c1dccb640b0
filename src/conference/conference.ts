/**
 * One conference `(room_id, conf_id)`: owns its sessions and serialises ALL work on them through one queue,
 * so an invite, a hangup, a revocation and an ICE failure never interleave. Implements the session rules
 * of protocol.md §4.3 (new, renegotiation, replacement), the refusals of §3.7 and the replies of §4.4.
 */
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/types.js';
import type { MediaLayer } from '../media/mediaLayer.js';
import type { PeerState } from '../media/peer.js';
import {
  answerContent,
  baseContent,
  candidatesContent,
  hangupContent,
  negotiateContent,
  type BaseContent,
  type HangupReason,
} from '../protocol/toDevice.js';
import type { Clock } from '../util/clock.js';
import { toError } from '../util/errors.js';
import { SerialQueue } from '../util/serialQueue.js';
import type { ConferenceMetrics } from './metrics.js';
import { sendRefusal, type CallAddress } from './refusal.js';
import type { AuthDecision, Dest, FocusRef, MembershipOracle, SignallingPort } from './ports.js';
import { participantKey, Session, type SessionIds } from './session.js';

export interface ConferenceDeps {
  oracle: MembershipOracle;
  signal: SignallingPort;
  media: MediaLayer;
  clock: Clock;
  log: Logger;
  metrics: ConferenceMetrics;
  focus: FocusRef;
  limits: LimitsConfig;
  /** Called inside the queue when a session starts / ends (the manager keeps its index). */
  onSessionStart: (s: Session) => void;
  onSessionEnd: (s: Session) => void;
  /** Called inside the queue when the last session ended. */
  onEmpty: () => void;
}

export interface EndOptions {
  /** Hangup sent to the client; null = none (the client hung up, or cannot be reached). */
  notify: HangupReason | null;
  error?: { errcode: string; error: string };
}

const DENY_MESSAGES: Record<string, string> = {
  unknown_room: 'the SFU does not know this room (is the focus user joined?)',
  not_joined: 'you are not joined to the room',
  left_room: 'you left the room',
  kicked: 'you were kicked from the room',
  banned: 'you are banned from the room',
  call_terminated: 'the call has been terminated',
  no_membership: 'no call membership for you in the room',
  device_not_listed: 'your call membership does not list this device',
  wrong_call: 'your call membership is for another call',
  expired: 'your call membership has expired',
  other_focus: 'no membership names this focus',
};

export function denyMessage(d: AuthDecision): string {
  return d.allowed ? 'allowed' : (DENY_MESSAGES[d.reason] ?? d.reason);
}

export class Conference {
  readonly roomId: string;
  readonly confId: string;
  readonly #d: ConferenceDeps;
  readonly #queue = new SerialQueue();
  readonly #sessions = new Map<string, Session>();
  readonly #log: Logger;
  #closed = false;

  constructor(roomId: string, confId: string, deps: ConferenceDeps) {
    this.roomId = roomId;
    this.confId = confId;
    this.#d = deps;
    this.#log = deps.log.child({ roomId, confId });
  }

  get size(): number {
    return this.#sessions.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  /** Runs `task` in this conference's queue; errors are logged, never thrown to the caller. */
  run(what: string, task: () => void | Promise<void>): Promise<void> {
    return this.#queue.push(task).catch((e: unknown) => {
      this.#log.error({ err: toError(e), what }, 'conference task failed');
    });
  }

  // --- operations (call through run()) -------------------------------------------------------------

  async invite(ids: SessionIds, offerSdp: string, metadata: Record<string, unknown>): Promise<void> {
    const now = this.#d.clock.now();
    const decision = this.#d.oracle.authorize(
      {
        roomId: this.roomId,
        userId: ids.userId,
        deviceId: ids.deviceId,
        confId: this.confId,
        focus: this.#d.focus,
      },
      now,
    );
    if (!decision.allowed) {
      this.#d.metrics.invites.inc({ result: 'refused' });
      this.#log.info(
        { userId: ids.userId, deviceId: ids.deviceId, reason: decision.reason },
        'invite refused',
      );
      this.refuse(ids, 'M_FORBIDDEN', denyMessage(decision));
      return;
    }
    const key = participantKey(ids.userId, ids.deviceId);
    const existing = this.#sessions.get(key);
    if (existing?.ids.callId === ids.callId && existing.ids.senderSessionId === ids.senderSessionId) {
      if (existing.lastOfferSdp === offerSdp) {
        // The same invite delivered twice (e.g. a retried transaction): already answered.
        this.#d.metrics.invites.inc({ result: 'duplicate' });
        return;
      }
      await this.#renegotiate(existing, offerSdp, 'm.call.answer', metadata);
      return;
    }
    if (existing !== undefined) {
      this.#d.metrics.invites.inc({ result: 'replaced' });
      await this.end(existing, 'replaced', { notify: 'user_hangup' });
    }
    if (this.#sessions.size >= this.#d.limits.max_participants) {
      this.#d.metrics.invites.inc({ result: 'refused' });
      this.refuse(
        ids,
        'M_LIMIT_EXCEEDED',
        `the conference is full (${this.#d.limits.max_participants} participants)`,
      );
      return;
    }
    await this.#start(ids, offerSdp, metadata);
  }

  async candidates(
    s: Session,
    list: readonly {
      candidate: string;
      sdpMid?: string;
      sdpMLineIndex?: number;
      usernameFragment?: string;
    }[],
  ): Promise<void> {
    if (s.state === 'closed') {
      return;
    }
    for (const c of list) {
      await s.peer.addRemoteCandidate(c);
    }
  }

  async selectAnswer(s: Session, selectedPartyId: string): Promise<void> {
    if (s.state === 'closed' || selectedPartyId === this.#d.focus.device_id) {
      return;
    }
    await this.end(s, 'other_party_selected', {
      notify: 'unknown_error',
      error: { errcode: 'M_INVALID_PARAM', error: `the answer of party ${selectedPartyId} was selected` },
    });
  }

  async negotiate(
    s: Session,
    description: { type: 'offer' | 'answer'; sdp: string },
    metadata: Record<string, unknown>,
  ): Promise<void> {
    if (s.state === 'closed') {
      return;
    }
    if (description.type === 'answer') {
      // The SFU never offers over to-device (protocol.md §4.2): nothing to apply.
      this.#log.debug(s.logFields, 'to-device negotiate answer ignored');
      return;
    }
    await this.#renegotiate(s, description.sdp, 'm.call.negotiate', metadata);
  }

  async remoteHangup(s: Session, reason: string | undefined): Promise<void> {
    await this.end(s, `remote_hangup${reason !== undefined ? `:${reason}` : ''}`, { notify: null });
  }

  /** Re-authorizes the sessions `match` selects; hangs up those no longer allowed (§3.7). */
  async recheck(match: (s: Session) => boolean): Promise<void> {
    const now = this.#d.clock.now();
    for (const s of this.sessions()) {
      if (!match(s)) {
        continue;
      }
      const d = this.#d.oracle.authorize(
        {
          roomId: this.roomId,
          userId: s.ids.userId,
          deviceId: s.ids.deviceId,
          confId: this.confId,
          focus: this.#d.focus,
        },
        now,
      );
      if (!d.allowed) {
        await this.end(s, `revoked:${d.reason}`, {
          notify: 'unknown_error',
          error: { errcode: 'M_FORBIDDEN', error: denyMessage(d) },
        });
      }
    }
  }

  /** Ends every session (shutdown): hangup user_hangup. */
  async closeAll(reason: string): Promise<void> {
    for (const s of this.sessions()) {
      await this.end(s, reason, { notify: 'user_hangup' });
    }
    this.#closed = true;
  }

  /** Refuses a call that has no session (or whose session is gone): hangup unknown_error + error object. */
  refuse(a: CallAddress, errcode: string, error: string): void {
    sendRefusal(this.#d.signal, this.#d.focus.device_id, a, errcode, error);
  }

  async end(s: Session, reason: string, opts: EndOptions): Promise<void> {
    if (s.state === 'closed') {
      return;
    }
    s.state = 'closed';
    if (this.#sessions.get(s.participant) === s) {
      this.#sessions.delete(s.participant);
    }
    this.#d.onSessionEnd(s);
    if (opts.notify !== null) {
      void this.#d.signal.send(
        this.#dest(s),
        'm.call.hangup',
        hangupContent(this.#base(s), opts.notify, opts.error),
      );
    }
    await s.peer.close();
    this.#d.metrics.sessionsEnded.inc({ reason: reason.split(':')[0] ?? reason });
    this.#log.info(
      { ...s.logFields, reason, hangup: opts.notify, durationMs: this.#d.clock.now() - s.createdAt },
      'session ended',
    );
    if (this.#sessions.size === 0) {
      this.#closed = true;
      this.#d.onEmpty();
    }
  }

  // --- internals ------------------------------------------------------------------------------

  #dest(s: Session): Dest {
    return { userId: s.ids.userId, deviceId: s.ids.deviceId };
  }

  #base(s: Session): BaseContent {
    return baseContent({
      callId: s.ids.callId,
      confId: s.ids.confId,
      focusDeviceId: this.#d.focus.device_id,
      destSessionId: s.ids.senderSessionId,
    });
  }

  /** Stream metadata of the other participants, for answers (filled by the data-channel work). */
  #metadataFor(_s: Session): Record<string, unknown> {
    return {};
  }

  async #start(ids: SessionIds, offerSdp: string, _metadata: Record<string, unknown>): Promise<void> {
    let peer;
    try {
      peer = this.#d.media.createPeer(offerSdp);
    } catch (e) {
      this.#d.metrics.invites.inc({ result: 'failed' });
      this.#log.error({ err: toError(e), userId: ids.userId }, 'cannot create peer');
      this.refuse(ids, 'M_UNKNOWN', 'the SFU could not create a peer connection');
      return;
    }
    const s = new Session(ids, peer, this.#d.clock.now());
    this.#sessions.set(s.participant, s);
    this.#d.onSessionStart(s);
    peer.on('state', (state) => {
      this.#onPeerState(s, state);
    });
    let answerSdp: string;
    s.lastOfferSdp = offerSdp;
    try {
      answerSdp = await peer.answer(offerSdp);
    } catch (e) {
      this.#d.metrics.invites.inc({ result: 'failed' });
      this.#log.warn({ ...s.logFields, err: toError(e).message }, 'offer could not be applied');
      await this.end(s, 'bad_offer', {
        notify: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the offer could not be applied' },
      });
      return;
    }
    this.#sendAnswer(s, 'm.call.answer', answerSdp);
    s.answeredAt = this.#d.clock.now();
    this.#d.metrics.invites.inc({ result: 'accepted' });
    this.#log.info(s.logFields, 'session started');
  }

  async #renegotiate(
    s: Session,
    offerSdp: string,
    replyType: 'm.call.answer' | 'm.call.negotiate',
    _metadata: Record<string, unknown>,
  ): Promise<void> {
    let answerSdp: string;
    s.lastOfferSdp = offerSdp;
    try {
      answerSdp = await s.peer.answer(offerSdp);
    } catch (e) {
      this.#d.metrics.invites.inc({ result: 'failed' });
      this.#log.warn({ ...s.logFields, err: toError(e).message }, 'renegotiation offer could not be applied');
      await this.end(s, 'bad_offer', {
        notify: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the offer could not be applied' },
      });
      return;
    }
    if (replyType === 'm.call.answer') {
      this.#d.metrics.invites.inc({ result: 'renegotiated' });
    }
    this.#sendAnswer(s, replyType, answerSdp);
  }

  /** Answer (or negotiate reply), then the candidates ending with "" — one FIFO per device keeps the order. */
  #sendAnswer(s: Session, type: 'm.call.answer' | 'm.call.negotiate', sdp: string): void {
    const base = this.#base(s);
    const metadata = this.#metadataFor(s);
    const content =
      type === 'm.call.answer' ? answerContent(base, sdp, metadata) : negotiateContent(base, sdp, metadata);
    void this.#d.signal.send(this.#dest(s), type, content).then((r) => {
      if (r === 'dropped' && type === 'm.call.answer') {
        // A dropped answer closes its session (protocol.md §2.5): the client can never connect.
        void this.run('answer dropped', () => this.end(s, 'answer_dropped', { notify: null }));
      }
    });
    const cands = s.peer.localCandidates().filter((c) => !s.sentCandidates.has(c.candidate));
    if (cands.length === 0 && s.sentCandidates.size > 0) {
      return; // renegotiation on the same ICE transport: nothing new to trickle
    }
    for (const c of cands) {
      s.sentCandidates.add(c.candidate);
    }
    const last = cands.at(-1);
    const end = { candidate: '', sdpMid: last?.sdpMid ?? '0', sdpMLineIndex: last?.sdpMLineIndex ?? 0 };
    void this.#d.signal.send(this.#dest(s), 'm.call.candidates', candidatesContent(base, [...cands, end]));
  }

  #onPeerState(s: Session, state: PeerState): void {
    if (state === 'connected' && s.connectedAt === undefined) {
      s.connectedAt = this.#d.clock.now();
      s.state = s.state === 'closed' ? 'closed' : 'active';
      if (s.answeredAt !== undefined) {
        this.#d.metrics.iceConnectSeconds.observe((s.connectedAt - s.answeredAt) / 1000);
      }
      this.#log.debug(s.logFields, 'peer connected');
    } else if (state === 'failed') {
      void this.run('ice failed', () => this.end(s, 'ice_failed', { notify: 'ice_failed' }));
    }
  }
}
