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
import { mergeMetadata } from '../protocol/dc/metadata.js';
import type { DcMessage, StreamMetadata } from '../protocol/dc/types.js';
import { remoteMediaTracks } from '../protocol/sdp.js';
import { ActiveSpeaker, type SpeakerSource } from './activeSpeaker.js';
import { DcChannel } from './dcChannel.js';
import { Negotiator } from './negotiator.js';
import { snapshotFor, type Publisher } from './metadataView.js';
import type { ConferenceMetrics } from './metrics.js';
import { sendRefusal, type CallAddress } from './refusal.js';
import type { AuthDecision, Dest, FocusRef, MembershipOracle, SignallingPort } from './ports.js';
import { participantKey, Session, trackKey, type SessionIds, type Subscription } from './session.js';

/** What a conference needs from the rest of the SFU (the manager passes the same services to each). */
export interface ConferenceServices {
  oracle: MembershipOracle;
  signal: SignallingPort;
  media: MediaLayer;
  clock: Clock;
  log: Logger;
  metrics: ConferenceMetrics;
  focus: FocusRef;
  limits: LimitsConfig;
  keepalive: { intervalMs: number; timeoutMs: number };
  answerTimeoutMs: number;
}

export interface ConferenceDeps extends ConferenceServices {
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
  readonly #speaker: ActiveSpeaker;
  #speakerErrors = 0;
  #closed = false;

  constructor(roomId: string, confId: string, deps: ConferenceDeps) {
    this.roomId = roomId;
    this.confId = confId;
    this.#d = deps;
    this.#log = deps.log.child({ roomId, confId });
    this.#speaker = new ActiveSpeaker({
      clock: deps.clock,
      sources: () => this.#speakerSources(),
      announce: (sp) => {
        for (const x of this.sessions()) {
          x.dc?.send({ kind: 'active_speaker', ...sp });
        }
      },
      onError: (e) => {
        if (this.#speakerErrors++ === 0) {
          this.#log.error({ err: toError(e) }, 'active speaker detection failed');
        }
      },
    });
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

  /**
   * Re-authorizes the sessions `match` selects; hangs up those no longer allowed (§3.7) and, for format (a)
   * memberships, those whose sender_session_id is not the membership's session_id any more (§3.1).
   */
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
      } else if (d.sessionId !== undefined && d.sessionId !== s.ids.senderSessionId) {
        // Format (a): the device announced a new session_id, so this older session is over (§3.1).
        await this.end(s, 'membership_session_changed', {
          notify: 'unknown_error',
          error: { errcode: 'M_FORBIDDEN', error: 'the device’s call membership names another session' },
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
    this.#speaker.stop();
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
    s.dc?.stop();
    s.negotiator?.close();
    await s.peer.close();
    this.#broadcastMetadata();
    await this.#pruneSubscriptions();
    this.#d.metrics.sessionsEnded.inc({ reason: reason.split(':')[0] ?? reason });
    this.#log.info(
      { ...s.logFields, reason, hangup: opts.notify, durationMs: this.#d.clock.now() - s.createdAt },
      'session ended',
    );
    if (this.#sessions.size === 0) {
      this.#closed = true;
      this.#speaker.stop();
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

  #publishers(): Publisher[] {
    return this.sessions().map((x) => ({
      key: x.participant,
      owner: { user_id: x.ids.userId, device_id: x.ids.deviceId },
      since: x.createdAt,
      metadata: x.metadata,
      tracks: x.state === 'closed' ? [] : x.peer.remoteTracks(),
    }));
  }

  /** Stream metadata of the other participants available to `s` (answers, SFU offers, DC snapshots). */
  #metadataFor(s: Session): StreamMetadata {
    return snapshotFor(s.participant, this.#publishers());
  }

  /** Sends every session (except `except`) its full snapshot over the data channel. */
  #broadcastMetadata(except?: Session): void {
    for (const x of this.sessions()) {
      this.#applyPublisherState(x);
    }
    const publishers = this.#publishers();
    for (const x of this.sessions()) {
      if (x !== except && x.dc !== undefined) {
        x.dc.send({ kind: 'metadata', metadata: snapshotFor(x.participant, publishers) });
      }
    }
  }

  #attachDataChannel(s: Session): void {
    const dc = new DcChannel({
      clock: this.#d.clock,
      limits: {
        maxBytes: this.#d.limits.max_dc_message_bytes,
        maxListEntries: this.#d.limits.max_tracks_per_subscribe,
        messagesPerSecond: this.#d.limits.dc_messages_per_second,
      },
      keepalive: this.#d.keepalive,
      write: (text) => s.peer.send(text),
      onMessage: (msg) => {
        void this.run('dc message', () => this.#onDcMessage(s, msg));
      },
      onTimeout: () => {
        void this.run('keep-alive timeout', () =>
          this.end(s, 'keep_alive_timeout', { notify: 'keep_alive_timeout' }),
        );
      },
      onDialectChange: () => {
        void this.run('dialect change', () => {
          s.dc?.send({ kind: 'metadata', metadata: this.#metadataFor(s) });
        });
      },
      count: (dialect, kind, result) => {
        this.#d.metrics.dcMessages.inc({ dialect, kind, result });
      },
    });
    s.dc = dc;
    s.negotiator = new Negotiator({
      clock: this.#d.clock,
      answerTimeoutMs: this.#d.answerTimeoutMs,
      createOffer: () => s.peer.offer(),
      sendOffer: (id, sdp) => {
        this.#d.metrics.renegotiations.inc({ initiator: 'sfu', result: 'offered' });
        dc.send({ kind: 'offer', id, sdp, metadata: this.#metadataFor(s) });
      },
      rollback: () => s.peer.rollback(),
      applyAnswer: (sdp) => s.peer.acceptAnswer(sdp),
      onTimeout: () => {
        this.#d.metrics.renegotiations.inc({ initiator: 'sfu', result: 'timeout' });
        void this.run('answer timeout', () =>
          this.end(s, 'answer_timeout', {
            notify: 'unknown_error',
            error: { errcode: 'M_UNKNOWN', error: 'no answer to the SFU offer in time' },
          }),
        );
      },
    });
    s.peer.on('dcmessage', (frame) => {
      dc.onFrame(typeof frame === 'string' ? frame : new Uint8Array(frame));
    });
    s.peer.on('dcopen', () => {
      void this.run('dc open', () => {
        dc.send({ kind: 'metadata', metadata: this.#metadataFor(s) });
        const speaker = this.#speaker.current;
        if (speaker !== undefined) {
          dc.send({ kind: 'active_speaker', ...speaker });
        }
      });
    });
  }

  async #onDcMessage(s: Session, msg: DcMessage): Promise<void> {
    const dc = s.dc;
    if (s.state === 'closed' || dc === undefined) {
      return;
    }
    switch (msg.kind) {
      case 'alive':
        dc.ack(msg.id);
        return;
      case 'metadata':
        s.metadata = mergeMetadata(s.metadata, msg.metadata, {
          user_id: s.ids.userId,
          device_id: s.ids.deviceId,
        });
        dc.ack(msg.id);
        this.#broadcastMetadata(s);
        return;
      case 'connect': {
        const named = this.#d.oracle.fociInUse(this.roomId, this.confId, this.#d.clock.now());
        const unknown = msg.foci.filter(
          (f) => !named.some((n) => n.user_id === f.user_id && n.device_id === f.device_id),
        );
        if (unknown.length > 0) {
          dc.error(
            msg.id,
            'M_FORBIDDEN',
            `no live member of this conference names ${unknown.map((f) => `${f.user_id}/${f.device_id}`).join(', ')}`,
          );
        } else {
          dc.error(msg.id, 'M_UNRECOGNIZED', 'cascading (connect) is not implemented by this SFU yet');
        }
        return;
      }
      case 'subscribe':
        await this.#subscribe(s, msg.id, [], msg.tracks);
        return;
      case 'unsubscribe':
        await this.#subscribe(s, msg.id, msg.tracks, []);
        return;
      case 'track_subscription':
        await this.#subscribe(s, undefined, msg.unsubscribe, msg.subscribe);
        return;
      case 'publish':
        await this.#clientOffer(s, msg.id, msg.sdp, msg.metadata);
        return;
      case 'offer':
        await this.#clientOffer(s, msg.id, msg.sdp, msg.metadata);
        return;
      case 'unpublish': {
        this.#dropPublished(s, msg.tracks);
        if (msg.sdp !== undefined) {
          await this.#clientOffer(s, msg.id, msg.sdp, undefined);
        } else {
          dc.ack(msg.id);
          this.#broadcastMetadata(s);
          await this.#pruneSubscriptions();
        }
        return;
      }
      case 'answer': {
        const negotiator = s.negotiator;
        if (negotiator === undefined) {
          return;
        }
        let result;
        try {
          result = await negotiator.answer(msg.id, msg.sdp);
        } catch (e) {
          this.#d.metrics.renegotiations.inc({ initiator: 'sfu', result: 'failed' });
          dc.error(msg.id, 'M_INVALID_PARAM', `the answer could not be applied: ${toError(e).message}`);
          return;
        }
        if (result === 'applied') {
          this.#d.metrics.renegotiations.inc({ initiator: 'sfu', result: 'answered' });
        } else if (s.dc?.dialect === 'A') {
          dc.error(
            msg.id,
            'M_INVALID_PARAM',
            result === 'no_offer' ? 'no SFU offer is pending' : 'answer to a stale offer',
          );
        } else {
          this.#log.debug({ ...s.logFields, result }, 'late answer discarded');
        }
        return;
      }
      case 'ack':
      case 'ping':
      case 'error':
      case 'active_speaker':
        // Server-to-client kinds: the parser refuses them from clients.
        return;
    }
  }

  async #start(ids: SessionIds, offerSdp: string, metadata: Record<string, unknown>): Promise<void> {
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
    s.metadata = mergeMetadata({}, metadata as StreamMetadata, {
      user_id: ids.userId,
      device_id: ids.deviceId,
    });
    this.#sessions.set(s.participant, s);
    this.#d.onSessionStart(s);
    this.#speaker.start();
    this.#attachDataChannel(s);
    peer.on('state', (state) => {
      this.#onPeerState(s, state);
    });
    const answerSdp = await this.#applyOffer(s, offerSdp, 'offer could not be applied');
    if (answerSdp === undefined) {
      return;
    }
    this.#sendAnswer(s, 'm.call.answer', answerSdp);
    s.answeredAt = this.#d.clock.now();
    // The keep-alive runs from the answer on: a data channel that never opens times out too (§5.5).
    s.dc?.start();
    this.#broadcastMetadata(s);
    this.#d.metrics.invites.inc({ result: 'accepted' });
    this.#log.info(s.logFields, 'session started');
  }

  /**
   * Applies a to-device offer (invite or negotiate) and returns the answer SDP; on failure the session is
   * ended with hangup unknown_error + M_INVALID_PARAM and undefined is returned.
   */
  async #applyOffer(s: Session, offerSdp: string, logMessage: string): Promise<string | undefined> {
    s.lastOfferSdp = offerSdp;
    try {
      return await s.peer.answer(offerSdp);
    } catch (e) {
      this.#d.metrics.invites.inc({ result: 'failed' });
      this.#log.warn({ ...s.logFields, err: toError(e).message }, logMessage);
      await this.end(s, 'bad_offer', {
        notify: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the offer could not be applied' },
      });
      return undefined;
    }
  }

  async #renegotiate(
    s: Session,
    offerSdp: string,
    replyType: 'm.call.answer' | 'm.call.negotiate',
    metadata: Record<string, unknown>,
  ): Promise<void> {
    s.metadata = mergeMetadata(s.metadata, metadata as StreamMetadata, {
      user_id: s.ids.userId,
      device_id: s.ids.deviceId,
    });
    const answerSdp = await this.#applyOffer(s, offerSdp, 'renegotiation offer could not be applied');
    if (answerSdp === undefined) {
      return;
    }
    if (replyType === 'm.call.answer') {
      this.#d.metrics.invites.inc({ result: 'renegotiated' });
    }
    this.#sendAnswer(s, replyType, answerSdp);
    this.#broadcastMetadata(s);
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

  /** Applies unsubscribes, then subscribes (§5.2); acks or reports the failed entries; offers if m-lines changed. */
  async #subscribe(
    s: Session,
    id: string | undefined,
    stop: readonly { streamId: string; trackId: string }[],
    start: readonly { streamId: string; trackId: string; width?: number; height?: number }[],
  ): Promise<void> {
    const dc = s.dc;
    if (dc === undefined) {
      return;
    }
    let changed = false;
    for (const t of stop) {
      const key = trackKey(t.streamId, t.trackId);
      const sub = s.subscriptions.get(key);
      if (sub !== undefined) {
        this.#release(s, key, sub);
        changed = true;
      }
    }
    const available = this.#metadataFor(s);
    const own = s.peer.remoteTracks();
    const notFound: { stream_id: string; track_id: string }[] = [];
    const invalid: { stream_id: string; track_id: string }[] = [];
    for (const t of start) {
      const key = trackKey(t.streamId, t.trackId);
      const existing = s.subscriptions.get(key);
      if (existing !== undefined) {
        existing.width = t.width ?? 0;
        existing.height = t.height ?? 0; // a resize only re-picks the layer; no renegotiation
        existing.downTrack?.setRequested(existing.width, existing.height, this.#d.clock.now());
        continue;
      }
      if (own.some((o) => o.streamId === t.streamId && o.trackId === t.trackId)) {
        invalid.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      const kind = available[t.streamId]?.tracks?.[t.trackId]?.kind;
      if (kind === undefined) {
        notFound.push({ stream_id: t.streamId, track_id: t.trackId });
        continue;
      }
      const transceiver = s.peer.addForwardingTransceiver(kind, t.streamId, t.trackId);
      const sub: Subscription = {
        streamId: t.streamId,
        trackId: t.trackId,
        kind,
        transceiver,
        width: t.width ?? 0,
        height: t.height ?? 0,
        downTrack: undefined,
      };
      s.subscriptions.set(key, sub);
      this.#forward(s, sub);
      changed = true;
    }
    if (invalid.length > 0) {
      dc.error(id, 'M_INVALID_PARAM', 'cannot subscribe to your own tracks', invalid);
    } else if (notFound.length > 0) {
      dc.error(id, 'M_NOT_FOUND', `unknown track ${notFound.map((f) => f.track_id).join(', ')}`, notFound);
    } else {
      dc.ack(id);
    }
    if (changed) {
      await s.negotiator?.request();
    }
  }

  /** A client offer (publish, renegotiation, B negotiate): glare rollback, metadata first, answer, re-offer. */
  async #clientOffer(
    s: Session,
    id: string | undefined,
    sdp: string,
    metadata: StreamMetadata | undefined,
  ): Promise<void> {
    const dc = s.dc;
    const negotiator = s.negotiator;
    if (dc === undefined || negotiator === undefined) {
      return;
    }
    const taken = this.#takenTrack(s, sdp);
    if (taken !== undefined) {
      dc.error(
        id,
        'M_INVALID_PARAM',
        `track ${taken.trackId} of stream ${taken.streamId} is already published by someone else`,
        [{ stream_id: taken.streamId, track_id: taken.trackId }],
      );
      return;
    }
    if (await negotiator.beforeClientOffer()) {
      this.#d.metrics.renegotiations.inc({ initiator: 'sfu', result: 'rolled_back' });
    }
    if (metadata !== undefined) {
      s.metadata = mergeMetadata(s.metadata, metadata, { user_id: s.ids.userId, device_id: s.ids.deviceId });
    }
    let answer: string;
    try {
      answer = await s.peer.answer(sdp);
    } catch (e) {
      this.#d.metrics.renegotiations.inc({ initiator: 'client', result: 'failed' });
      dc.error(id, 'M_INVALID_PARAM', `the offer could not be applied: ${toError(e).message}`);
      await negotiator.afterClientOffer();
      return;
    }
    this.#d.metrics.renegotiations.inc({ initiator: 'client', result: 'answered' });
    dc.send({
      kind: 'answer',
      ...(id !== undefined ? { id } : {}),
      sdp: answer,
      metadata: this.#metadataFor(s),
    });
    this.#broadcastMetadata(s);
    await this.#pruneSubscriptions();
    await negotiator.afterClientOffer();
  }

  /** A `(stream_id, track_id)` the offer sends that another session already publishes (§6: the first keeps it). */
  #takenTrack(s: Session, sdp: string): { streamId: string; trackId: string } | undefined {
    const others = this.sessions().filter((x) => x !== s);
    for (const t of remoteMediaTracks(sdp)) {
      if (
        t.sending &&
        others.some((x) =>
          x.peer.remoteTracks().some((o) => o.streamId === t.streamId && o.trackId === t.trackId),
        )
      ) {
        return { streamId: t.streamId, trackId: t.trackId };
      }
    }
    return undefined;
  }

  /** Removes stopped tracks from a publisher's metadata (unpublish). */
  #dropPublished(s: Session, tracks: readonly { streamId: string; trackId: string }[]): void {
    const next: StreamMetadata = structuredClone(s.metadata);
    for (const t of tracks) {
      const stream = next[t.streamId];
      if (stream?.tracks !== undefined) {
        Reflect.deleteProperty(stream.tracks, t.trackId);
        if (Object.keys(stream.tracks).length === 0) {
          Reflect.deleteProperty(next, t.streamId);
        }
      }
    }
    s.metadata = next;
  }

  /** Connects a new subscription to the publisher's track (the media path of protocol.md §7). */
  #forward(s: Session, sub: Subscription): void {
    for (const x of this.sessions()) {
      if (x === s || x.state === 'closed') {
        continue;
      }
      const rt = x.peer
        .remoteTracks()
        .find((r) => r.streamId === sub.streamId && r.trackId === sub.trackId && r.sending);
      const track = rt?.mid === undefined ? undefined : x.peer.publishedTrack(rt.mid);
      if (track === undefined) {
        continue;
      }
      const dt = s.peer.forward(sub.transceiver, track, sub.width, sub.height);
      dt.onEnded = () => {
        void this.run('forwarded track ended', () => this.#pruneSubscriptions());
      };
      sub.downTrack = dt;
      return;
    }
    this.#log.warn(
      { ...s.logFields, streamId: sub.streamId, trackId: sub.trackId },
      'no published track to forward',
    );
  }

  #release(s: Session, key: string, sub: Subscription): void {
    if (sub.downTrack !== undefined) {
      s.peer.stopForwarding(sub.downTrack);
      sub.downTrack = undefined;
    }
    s.peer.releaseForwardingTransceiver(sub.transceiver);
    s.subscriptions.delete(key);
  }

  /** Every published audio track, for the active-speaker detector. */
  #speakerSources(): SpeakerSource[] {
    const out: SpeakerSource[] = [];
    for (const x of this.sessions()) {
      if (x.state === 'closed') {
        continue;
      }
      for (const rt of x.peer.remoteTracks()) {
        const track = rt.kind === 'audio' && rt.mid !== undefined ? x.peer.publishedTrack(rt.mid) : undefined;
        if (track === undefined) {
          continue;
        }
        out.push({
          key: `${x.participant}|${rt.streamId}`,
          speaker: { user_id: x.ids.userId, device_id: x.ids.deviceId, stream_id: rt.streamId },
          muted: x.metadata[rt.streamId]?.audio_muted === true,
          take: () => track.takeLoudness(),
        });
      }
    }
    return out;
  }

  /** Mute flags and declared sizes from a publisher's metadata reach its published tracks (layer choice). */
  #applyPublisherState(s: Session): void {
    if (s.state === 'closed') {
      return;
    }
    for (const rt of s.peer.remoteTracks()) {
      const track = rt.mid === undefined ? undefined : s.peer.publishedTrack(rt.mid);
      if (track === undefined) {
        continue;
      }
      const stream = s.metadata[rt.streamId];
      track.setMuted(rt.kind === 'video' ? stream?.video_muted === true : stream?.audio_muted === true);
      const info = stream?.tracks?.[rt.trackId];
      const w = info?.width ?? 0;
      const h = info?.height ?? 0;
      track.setDeclaredSize(w > 0 && h > 0 ? { width: w, height: h } : undefined);
    }
  }

  /** Forwarded tracks that are no longer available end: their transceivers go inactive (SFU offer). */
  async #pruneSubscriptions(): Promise<void> {
    const publishers = this.#publishers();
    for (const x of this.sessions()) {
      const available = snapshotFor(x.participant, publishers);
      let changed = false;
      for (const [key, sub] of x.subscriptions) {
        if (available[sub.streamId]?.tracks?.[sub.trackId] === undefined || sub.downTrack?.closed === true) {
          this.#release(x, key, sub);
          changed = true;
        }
      }
      if (changed) {
        await x.negotiator?.request();
      }
    }
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
