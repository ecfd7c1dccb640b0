/**
 * The to-device call exchange of one conference (protocol.md §4): an invite is authorized, then starts a
 * session, renegotiates it or replaces it (§4.3, §3.7 refusals); candidates, select_answer, negotiate and
 * hangup act on a live session; answers (and negotiate replies) go out followed by the local candidates, the
 * last batch ending with an empty candidate (§4.4). Runs on the conference's queue.
 */
import { mergeMetadata } from '../protocol/dc/metadata.js';
import type { StreamMetadata } from '../protocol/dc/types.js';
import {
  answerContent,
  baseContent,
  candidatesContent,
  negotiateContent,
  type BaseContent,
} from '../protocol/toDevice.js';
import { toError } from '../util/errors.js';
import type { CandidateInit } from './commands.js';
import type { ConferenceCore } from './core.js';
import { denyMessage, OTHER_SESSION } from './refusal.js';
import { participantKey, Session, type SessionIds } from './session.js';

/** The §4.4 base fields of every event to `s`. */
export function sessionBase(s: Session, focusDeviceId: string): BaseContent {
  return baseContent({
    callId: s.ids.callId,
    confId: s.ids.confId,
    focusDeviceId,
    destSessionId: s.ids.senderSessionId,
  });
}

export class CallExchange {
  readonly #c: ConferenceCore;

  constructor(core: ConferenceCore) {
    this.#c = core;
  }

  async invite(ids: SessionIds, offerSdp: string, metadata: Record<string, unknown>): Promise<void> {
    const { oracle, focus, clock, metrics, limits } = this.#c.services;
    const decision = oracle.authorize(
      { roomId: this.#c.roomId, userId: ids.userId, deviceId: ids.deviceId, confId: this.#c.confId, focus },
      clock.now(),
    );
    if (!decision.allowed) {
      metrics.invite('refused');
      this.#c.log.info(
        { userId: ids.userId, deviceId: ids.deviceId, reason: decision.reason },
        'invite refused',
      );
      this.#c.refuse(ids, 'M_FORBIDDEN', denyMessage(decision));
      return;
    }
    if (decision.sessionId !== undefined && decision.sessionId !== ids.senderSessionId) {
      // Format (a): the membership names another session of this device (§3.1). Decided here as the recheck
      // decides for a running session, so a call is never admitted and then hung up for the same mismatch.
      metrics.invite('refused');
      this.#c.log.info(
        { userId: ids.userId, deviceId: ids.deviceId, reason: 'other_session' },
        'invite refused',
      );
      this.#c.refuse(ids, 'M_FORBIDDEN', OTHER_SESSION);
      return;
    }
    const existing = this.#c.session(participantKey(ids.userId, ids.deviceId));
    if (existing?.ids.callId === ids.callId && existing.ids.senderSessionId === ids.senderSessionId) {
      if (existing.lastOfferSdp === offerSdp) {
        // The same invite delivered twice (e.g. a retried transaction): already answered.
        metrics.invite('duplicate');
        return;
      }
      await this.#renegotiate(existing, offerSdp, 'm.call.answer', metadata);
      return;
    }
    if (existing !== undefined) {
      metrics.invite('replaced');
      await this.#c.end(existing, 'replaced', { notify: 'user_hangup', replacing: true });
    }
    if (this.#c.size >= limits.max_participants) {
      metrics.invite('refused');
      this.#c.refuse(
        ids,
        'M_LIMIT_EXCEEDED',
        `the conference is full (${limits.max_participants} participants)`,
      );
      return;
    }
    await this.#start(ids, offerSdp, metadata);
  }

  async candidates(s: Session, list: readonly CandidateInit[]): Promise<void> {
    if (s.state === 'closed') {
      return;
    }
    for (const c of list) {
      await s.peer.addRemoteCandidate(c);
    }
  }

  async selectAnswer(s: Session, selectedPartyId: string): Promise<void> {
    if (s.state === 'closed' || selectedPartyId === this.#c.services.focus.device_id) {
      return;
    }
    await this.#c.end(s, 'other_party_selected', {
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
      this.#c.log.debug(s.logFields, 'to-device negotiate answer ignored');
      return;
    }
    await this.#renegotiate(s, description.sdp, 'm.call.negotiate', metadata);
  }

  async hangup(s: Session, reason: string | undefined): Promise<void> {
    await this.#c.end(s, `remote_hangup${reason !== undefined ? `:${reason}` : ''}`, { notify: null });
  }

  async #start(ids: SessionIds, offerSdp: string, metadata: Record<string, unknown>): Promise<void> {
    const { media, metrics, clock } = this.#c.services;
    let peer;
    try {
      peer = media.createPeer(offerSdp);
    } catch (e) {
      metrics.invite('failed');
      this.#c.log.error({ err: toError(e), userId: ids.userId }, 'cannot create peer');
      this.#c.refuse(ids, 'M_UNKNOWN', 'the SFU could not create a peer connection');
      return;
    }
    const s = new Session(ids, peer, clock.now());
    s.metadata = mergeMetadata({}, metadata as StreamMetadata, {
      user_id: ids.userId,
      device_id: ids.deviceId,
    });
    this.#c.adopt(s);
    const answerSdp = await this.#applyOffer(s, offerSdp, 'offer could not be applied');
    if (answerSdp === undefined) {
      return;
    }
    this.#sendAnswer(s, 'm.call.answer', answerSdp);
    s.answeredAt = clock.now();
    // The keep-alive runs from the answer on: a data channel that never opens times out too (§5.5).
    s.dc?.start();
    this.#c.broadcastMetadata(s);
    metrics.invite('accepted');
    this.#c.log.info(s.logFields, 'session started');
  }

  /**
   * Applies a to-device offer (invite or negotiate) and returns the answer SDP; on failure the session is
   * ended with hangup unknown_error + M_INVALID_PARAM and undefined is returned.
   */
  async #applyOffer(s: Session, offerSdp: string, logMessage: string): Promise<string | undefined> {
    s.lastOfferSdp = offerSdp;
    let answer: string;
    try {
      answer = await s.peer.answer(offerSdp);
    } catch (e) {
      this.#c.services.metrics.invite('failed');
      this.#c.log.warn({ ...s.logFields, err: toError(e).message }, logMessage);
      await this.#c.end(s, 'bad_offer', {
        notify: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the offer could not be applied' },
      });
      return undefined;
    }
    this.#c.router.sync(s);
    return answer;
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
      this.#c.services.metrics.invite('renegotiated');
    }
    this.#sendAnswer(s, replyType, answerSdp);
    this.#c.broadcastMetadata(s);
  }

  /** Answer (or negotiate reply), then the candidates ending with "" — one FIFO per device keeps the order. */
  #sendAnswer(s: Session, type: 'm.call.answer' | 'm.call.negotiate', sdp: string): void {
    const { signal, focus } = this.#c.services;
    const base = sessionBase(s, focus.device_id);
    const metadata = this.#c.metadataFor(s);
    const content =
      type === 'm.call.answer' ? answerContent(base, sdp, metadata) : negotiateContent(base, sdp, metadata);
    void signal.send(this.#c.dest(s), type, content).then((r) => {
      if (r === 'dropped' && type === 'm.call.answer') {
        // A dropped answer closes its session (protocol.md §2.5): the client can never connect.
        this.#c.later('answer dropped', () => this.#c.end(s, 'answer_dropped', { notify: null }));
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
    void signal.send(this.#c.dest(s), 'm.call.candidates', candidatesContent(base, [...cands, end]));
  }
}
