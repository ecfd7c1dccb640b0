/**
 * One call of a link between this focus and a remote one (protocol.md §8.1): its identifiers, its peer, its
 * set-up phase and the to-device events it sends (invite, answer, candidates, ICE-restart offers and answers,
 * hangup), plus the link's data channel: frames parsed with the link parser, bad ones answered `error` (never
 * thrown), good ones handed back. A call is addressed like a session (§4.2) with `sender_session_id` "sfu".
 */
import { parseLinkFrame } from '../protocol/dc/linkParse.js';
import { serializeLinkFrame } from '../protocol/dc/linkSerialize.js';
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import type { DcParseLimits } from '../protocol/dc/types.js';
import {
  answerContent,
  baseContent,
  candidatesContent,
  cascadeInviteContent,
  hangupContent,
  negotiateContent,
  negotiateOfferContent,
  SFU_SESSION_ID,
  type BaseContent,
  type HangupError,
  type HangupReason,
} from '../protocol/toDevice.js';
import type { TimerHandle } from '../util/clock.js';
import type { CandidateInit } from './commands.js';
import type { SessionRef } from './conferencePorts.js';
import type { FocusId } from './focusId.js';
import type { LinkPeerPort } from './linkPorts.js';
import type { LinkState, LinkView } from './linkPolicyTypes.js';
import type { SignallingPort } from './ports.js';

/** A new link call id (§8.1 example): `cascade-<ms>-<random>`. */
export function newLinkCallId(now: number, random: number): string {
  const r = Math.floor(Math.min(Math.max(random, 0), 0.999_999_999) * 36 ** 6).toString(36);
  return `cascade-${now}-${r.padStart(6, '0')}`;
}

/** What a call needs to address its to-device events. */
export interface LinkCallContext {
  readonly signal: SignallingPort;
  readonly focusDeviceId: string;
  readonly confId: string;
  readonly roomId: string;
}

export class LinkCall {
  readonly remote: FocusId;
  readonly callId: string;
  readonly initiator: 'self' | 'remote';
  readonly peer: LinkPeerPort;
  readonly createdAt: number;
  /** `inviting`: our invite awaits its answer; `answering`: being set up (answer sent or received). */
  phase: LinkState;
  closed = false;
  /** The remote description is applied (candidates before it are queued). */
  remoteApplied = false;
  readonly pendingCandidates: CandidateInit[] = [];
  /** An ICE-restart offer of ours awaits its answer (§8.7). */
  restartPending = false;
  /** Set-up deadline (answer and data channel). */
  setupTimer: TimerHandle | undefined;
  /** Malformed link frames answered with `error` on this call. */
  badFrames = 0;
  /** Link messages and RTCP feedback refused over their budgets on this call. */
  limited = 0;
  readonly #ctx: LinkCallContext;
  readonly #sentCandidates = new Set<string>();

  constructor(
    ctx: LinkCallContext,
    o: { remote: FocusId; callId: string; initiator: 'self' | 'remote'; peer: LinkPeerPort; now: number },
  ) {
    this.#ctx = ctx;
    this.remote = o.remote;
    this.callId = o.callId;
    this.initiator = o.initiator;
    this.peer = o.peer;
    this.createdAt = o.now;
    this.phase = o.initiator === 'self' ? 'inviting' : 'answering';
  }

  /** The manager's index address of this call's incoming events (§4.2). */
  get ref(): SessionRef {
    return {
      userId: this.remote.userId,
      deviceId: this.remote.deviceId,
      callId: this.callId,
      senderSessionId: SFU_SESSION_ID,
    };
  }

  get view(): LinkView {
    return { remote: this.remote, callId: this.callId, initiator: this.initiator, state: this.phase };
  }

  matches(ref: SessionRef): boolean {
    return (
      ref.userId === this.remote.userId &&
      ref.deviceId === this.remote.deviceId &&
      ref.callId === this.callId &&
      ref.senderSessionId === SFU_SESSION_ID
    );
  }

  get #base(): BaseContent {
    return baseContent({
      callId: this.callId,
      confId: this.#ctx.confId,
      focusDeviceId: this.#ctx.focusDeviceId,
      destSessionId: SFU_SESSION_ID,
    });
  }

  #send(type: string, content: Record<string, unknown>): Promise<'sent' | 'dropped'> {
    return this.#ctx.signal.send(
      { userId: this.remote.userId, deviceId: this.remote.deviceId },
      type,
      content,
    );
  }

  sendInvite(sdp: string): Promise<'sent' | 'dropped'> {
    const content = cascadeInviteContent(this.#base, {
      roomId: this.#ctx.roomId,
      invitee: this.remote.userId,
      sdp,
      metadata: {},
    });
    const sent = this.#send('m.call.invite', content);
    this.sendCandidates();
    return sent;
  }

  sendAnswer(sdp: string): Promise<'sent' | 'dropped'> {
    const sent = this.#send('m.call.answer', answerContent(this.#base, sdp, {}));
    this.sendCandidates();
    return sent;
  }

  /** An ICE-restart offer (initiator, §8.7), then the candidates gathered for it. */
  sendRestartOffer(sdp: string): void {
    void this.#send('m.call.negotiate', negotiateOfferContent(this.#base, sdp));
    this.#sentCandidates.clear();
    this.sendCandidates();
  }

  /** The answer to the remote's ICE-restart offer, then the candidates gathered for it. */
  sendRestartAnswer(sdp: string): void {
    void this.#send('m.call.negotiate', negotiateContent(this.#base, sdp, {}));
    this.#sentCandidates.clear();
    this.sendCandidates();
  }

  /** Local candidates not sent yet, the batch ending with an empty candidate (§4.4). */
  sendCandidates(): void {
    const cands = this.peer.localCandidates().filter((c) => !this.#sentCandidates.has(c.candidate));
    if (cands.length === 0 && this.#sentCandidates.size > 0) {
      return;
    }
    for (const c of cands) {
      this.#sentCandidates.add(c.candidate);
    }
    const last = cands.at(-1);
    const end = { candidate: '', sdpMid: last?.sdpMid ?? '0', sdpMLineIndex: last?.sdpMLineIndex ?? 0 };
    void this.#send('m.call.candidates', candidatesContent(this.#base, [...cands, end]));
  }

  sendHangup(reason: HangupReason, error?: HangupError): void {
    void this.#send('m.call.hangup', hangupContent(this.#base, reason, error));
  }

  /** A message on the link's data channel (dropped when it is not open). */
  send(msg: LinkMessage): boolean {
    return this.peer.send(serializeLinkFrame(msg));
  }

  /** One frame from the remote focus: the message, or undefined after answering `error` for a bad frame. */
  parse(frame: string | Uint8Array, limits: DcParseLimits): LinkMessage | undefined {
    const r = parseLinkFrame(frame, limits);
    if (r.ok) {
      return r.message;
    }
    this.badFrames++;
    this.send({
      kind: 'error',
      ...(r.id !== undefined ? { id: r.id } : {}),
      errcode: r.errcode,
      error: r.error,
    });
    return undefined;
  }

  /**
   * `m.call.negotiate` on the link (§8.7): ICE-restart offers go initiator → invitee, answered the same way; the
   * invitee is the polite peer, so an initiator with its own restart outstanding ignores a colliding offer.
   * Rejects when the description cannot be applied.
   */
  async negotiate(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    if (d.type === 'answer') {
      if (this.restartPending) {
        this.restartPending = false;
        await this.peer.acceptAnswer(d.sdp);
      }
      return;
    }
    if (this.initiator === 'self' && this.restartPending) {
      return;
    }
    const answer = await this.peer.answer(d.sdp);
    if (!this.closed) {
      this.sendRestartAnswer(answer);
    }
  }

  /** Remote candidates: applied once the remote description is, queued before. */
  async addCandidates(list: readonly CandidateInit[]): Promise<void> {
    if (!this.remoteApplied) {
      this.pendingCandidates.push(...list.slice(0, Math.max(0, MAX_PENDING - this.pendingCandidates.length)));
      return;
    }
    for (const c of list) {
      await this.peer.addRemoteCandidate(c);
    }
  }

  /** The remote description is applied: queued candidates go in. */
  async remoteDescriptionApplied(): Promise<void> {
    this.remoteApplied = true;
    const queued = this.pendingCandidates.splice(0);
    await this.addCandidates(queued);
  }
}

/** Candidates kept per call before its remote description (bounded: a flood is dropped). */
const MAX_PENDING = 256;
