/**
 * The calls of a conference's links (protocol.md §8.1, §8.7): per remote focus a RemoteLink (liveness and relay,
 * linkRemote.ts) and its current LinkCall; invites out and answers in, the answer, candidates, ICE-restart
 * negotiation (initiator offers, the invitee is polite) and hangups of each call; the link's data channel
 * (`alive` to liveness, bad frames answered `error`, the rest to the relay); set-up deadline; the 200 ms tick
 * (relay tick, media and demand sampling, liveness deadlines). What becomes of each call is reported to the
 * LinkPolicy (links.ts decides with it). Runs on the conference's queue.
 */
import type { LinkMessage } from '../protocol/dc/linkTypes.js';
import type { HangupError, HangupReason } from '../protocol/toDevice.js';
import { toError } from '../util/errors.js';
import { MessageBudget, type Admission } from '../util/messageBudget.js';
import type { CandidateInit } from './commands.js';
import type { SessionRef } from './conferencePorts.js';
import type { FocusId } from './focusId.js';
import { LinkCall, newLinkCallId } from './linkCall.js';
import type { SuspendCause } from './linkLiveness.js';
import type { LinkEndCause, LinkPolicy, LinkView } from './linkPolicy.js';
import type { RemoteLink } from './linkRemote.js';
import { RemoteLinks, type LinkSnapshot } from './linkRemotes.js';
import type { LinkConference } from './links.js';
import type { SessionIds } from './session.js';

/**
 * A link's data channel takes this many times a client session's `limits.dc_messages_per_second` (it carries the
 * metadata and demand of every relayed track); over it messages are refused and, past the flood bound, the link
 * is hung up (protocol.md §8.8, util/messageBudget.ts).
 */
export const LINK_MESSAGE_FACTOR = 10;

/** Set-up deadline of a link call: answer, ICE and the data channel. */
export const LINK_SETUP_TIMEOUT_MS = 20_000;

/** How a call ends: the hangup sent, what the policy hears, what liveness hears. */
interface EndHow {
  readonly hangup: HangupReason | null;
  readonly error?: HangupError;
  /** `invite`: inviteFailed; a LinkEndCause: linkEnded; `none`: crossing or replacement. */
  readonly report: 'invite' | LinkEndCause | 'none';
  readonly liveness: 'ended' | 'closed' | 'none';
  readonly why: string;
}

export class LinkCalls {
  readonly #c: LinkConference;
  readonly #policy: LinkPolicy;
  readonly #changed: () => void;
  readonly #remotes: RemoteLinks;

  /** `changed`: a call ended or connected, so the policy should look again. */
  constructor(c: LinkConference, policy: LinkPolicy, changed: () => void) {
    this.#c = c;
    this.#policy = policy;
    this.#changed = changed;
    this.#remotes = new RemoteLinks(c, {
      iceRestart: (call) => {
        this.#iceRestart(call);
      },
      relink: (call, cause) => {
        this.#relink(call, cause);
      },
    });
  }

  /** Remote foci this conference is linked to or keeps relayed tracks of (it must not close meanwhile). */
  get active(): boolean {
    return this.#remotes.size > 0;
  }

  /** Whether `ref` addresses a current link call. */
  has(ref: SessionRef): boolean {
    return this.#remotes.callOf(ref) !== undefined;
  }

  views(): LinkView[] {
    return this.#remotes.views();
  }

  snapshot(): LinkSnapshot[] {
    return this.#remotes.snapshot();
  }

  localChanged(): void {
    this.#remotes.localChanged();
  }

  /** A to-device event of a current link call (from the manager's index). */
  async command(
    ref: SessionRef,
    cmd:
      | { kind: 'answer'; sdp: string }
      | { kind: 'candidates'; candidates: readonly CandidateInit[] }
      | { kind: 'negotiate'; description: { type: 'offer' | 'answer'; sdp: string } }
      | { kind: 'hangup'; reason?: string }
      | { kind: 'selectAnswer' }
      | { kind: 'malformed'; errcode: string; error: string },
  ): Promise<void> {
    const call = this.#remotes.callOf(ref);
    if (call === undefined) {
      return;
    }
    switch (cmd.kind) {
      case 'selectAnswer':
        // Links have no answer selection (§8.1): nothing to do.
        return;
      case 'answer':
        await this.#onAnswer(call, cmd.sdp);
        return;
      case 'candidates':
        await call.addCandidates(cmd.candidates);
        return;
      case 'negotiate':
        try {
          await call.negotiate(cmd.description);
        } catch (e) {
          this.#c.log.warn({ remote: call.remote, err: toError(e).message }, 'link renegotiation failed');
        }
        return;
      case 'hangup':
        this.#end(call, {
          hangup: null,
          report: call.phase === 'inviting' ? 'invite' : 'failed',
          liveness: 'ended',
          why: `remote_hangup:${cmd.reason ?? ''}`,
        });
        return;
      case 'malformed':
        this.#end(call, {
          hangup: 'unknown_error',
          error: { errcode: cmd.errcode, error: cmd.error },
          report: call.phase === 'inviting' ? 'invite' : 'failed',
          liveness: 'ended',
          why: 'malformed_event',
        });
        return;
    }
  }

  /** Every link hung up (user_hangup), relays closed, the tick stopped (shutdown, conference closed). */
  shutdown(): void {
    for (const r of this.#remotes.values()) {
      if (r.call !== undefined) {
        this.#end(r.call, { hangup: 'user_hangup', report: 'none', liveness: 'none', why: 'shutdown' });
      }
    }
    this.#remotes.close();
  }

  /** Our invite to `remote` (a policy action): a new call, the offer, the invite and its candidates. */
  async invite(remote: FocusId, reason: string): Promise<boolean> {
    const { clock, random } = this.#c.services;
    const now = clock.now();
    const call = this.#newCall(remote, newLinkCallId(now, random.random()), 'self');
    if (call === undefined) {
      this.#policy.inviteFailed(remote, now);
      return false;
    }
    this.#c.log.info({ remote, callId: call.callId, reason }, 'inviting a focus to link');
    let sdp: string;
    try {
      sdp = await call.peer.offer();
    } catch (e) {
      this.#c.log.error({ err: toError(e), remote }, 'link offer failed');
      this.#end(call, { hangup: null, report: 'invite', liveness: 'ended', why: 'offer_failed' });
      return false;
    }
    if (call.closed) {
      return false;
    }
    void call.sendInvite(sdp).then((r) => {
      if (r === 'dropped') {
        this.#c.later('link invite dropped', () => {
          this.#end(call, { hangup: null, report: 'invite', liveness: 'ended', why: 'invite_dropped' });
        });
      }
    });
    return true;
  }

  /** Answers an accepted link invite (§8.1). */
  async answer(
    remote: FocusId,
    ids: SessionIds,
    sdp: string,
    candidates: readonly CandidateInit[],
    event: 'call' | 'replaced',
  ): Promise<void> {
    const { metrics } = this.#c.services;
    const call = this.#newCall(remote, ids.callId, 'remote', event);
    if (call === undefined) {
      metrics.invite('failed');
      this.#c.refuse(ids, 'M_UNKNOWN', 'the SFU could not create a link peer');
      return;
    }
    let answer: string;
    try {
      answer = await call.peer.answer(sdp);
    } catch (e) {
      metrics.invite('failed');
      this.#c.log.warn({ remote, err: toError(e).message }, 'link offer could not be applied');
      this.#end(call, {
        hangup: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the offer could not be applied' },
        report: 'failed',
        liveness: 'ended',
        why: 'bad_offer',
      });
      return;
    }
    if (call.closed) {
      return;
    }
    await call.remoteDescriptionApplied();
    await call.addCandidates(candidates);
    metrics.invite('accepted');
    this.#c.log.info({ remote, callId: call.callId }, 'link invite answered');
    void call.sendAnswer(answer).then((r) => {
      if (r === 'dropped') {
        this.#c.later('link answer dropped', () => {
          this.#end(call, { hangup: null, report: 'failed', liveness: 'ended', why: 'answer_dropped' });
        });
      }
    });
  }

  async #onAnswer(call: LinkCall, sdp: string): Promise<void> {
    if (call.initiator !== 'self' || call.phase !== 'inviting') {
      this.#c.services.metrics.invite('duplicate');
      return;
    }
    try {
      await call.peer.acceptAnswer(sdp);
    } catch (e) {
      this.#c.log.warn({ remote: call.remote, err: toError(e).message }, 'link answer could not be applied');
      this.#end(call, {
        hangup: 'unknown_error',
        error: { errcode: 'M_INVALID_PARAM', error: 'the answer could not be applied' },
        report: 'invite',
        liveness: 'ended',
        why: 'bad_answer',
      });
      return;
    }
    if (!call.closed) {
      call.phase = 'answering';
      await call.remoteDescriptionApplied();
    }
  }

  // --- calls ------------------------------------------------------------------------------------

  #newCall(
    remote: FocusId,
    callId: string,
    initiator: 'self' | 'remote',
    event: 'call' | 'replaced' = 'call',
  ): LinkCall | undefined {
    const { linkMedia, cascade, clock, signal, focus } = this.#c.services;
    let peer;
    try {
      peer = linkMedia.createLinkPeer({ maxLinkBps: cascade.max_link_bps });
    } catch (e) {
      this.#c.log.error({ err: toError(e), remote }, 'cannot create a link peer');
      return undefined;
    }
    const now = clock.now();
    const call = new LinkCall(
      { signal, focusDeviceId: focus.device_id, confId: this.#c.confId, roomId: this.#c.roomId },
      { remote, callId, initiator, peer, now },
    );
    const old = this.#remotes.get(remote)?.call;
    if (old !== undefined && !old.closed) {
      this.#end(old, { hangup: 'user_hangup', report: 'none', liveness: 'none', why: 'superseded' });
    }
    const r = this.#remotes.getOrCreate(remote);
    this.#c.linkStarted(call.ref);
    r.begin(call, event, now);
    this.#wire(r, call);
    call.setupTimer = clock.setTimeout(() => {
      this.#c.later('link setup timeout', () => {
        if (!call.closed && call.phase !== 'connected' && call.phase !== 'suspended') {
          this.#end(call, {
            hangup: 'ice_failed',
            report: call.phase === 'inviting' ? 'invite' : 'failed',
            liveness: 'ended',
            why: 'setup_timeout',
          });
        }
      });
    }, LINK_SETUP_TIMEOUT_MS);
    this.#remotes.startTicker();
    return call;
  }

  #wire(r: RemoteLink, call: LinkCall): void {
    const { clock, limits } = this.#c.services;
    const limitsDc = {
      maxBytes: limits.max_dc_message_bytes,
      maxListEntries: limits.max_tracks_per_subscribe,
    };
    call.peer.on('dcopen', () => {
      this.#c.later('link dc open', () => {
        if (call.closed || r.call !== call || call.phase === 'connected') {
          return;
        }
        call.phase = 'connected';
        call.setupTimer?.cancel();
        this.#policy.linkConnected(call.remote);
        this.#c.log.info({ remote: call.remote, callId: call.callId }, 'link connected');
        r.feed({ kind: 'connected' }, clock.now());
        this.#changed();
      });
    });
    const budget = new MessageBudget(LINK_MESSAGE_FACTOR * limits.dc_messages_per_second, clock.now());
    call.peer.on('dcmessage', (frame) => {
      this.#c.later('link dc message', () => {
        if (call.closed || r.call !== call) {
          return;
        }
        const admitted = budget.admit(clock.now());
        if (admitted !== 'ok') {
          this.#refused(call, admitted, 'link data-channel messages');
          return;
        }
        const msg = call.parse(frame, limitsDc);
        if (msg !== undefined) {
          this.#onMessage(r, call, msg);
        }
      });
    });
    call.peer.on('flood', () => {
      this.#c.later('link feedback flood', () => {
        if (!call.closed) {
          this.#refused(call, 'flood', 'link RTCP feedback');
        }
      });
    });
    call.peer.on('state', (state) => {
      if (state === 'failed') {
        this.#c.later('link ice failed', () => {
          this.#end(call, {
            hangup: 'ice_failed',
            report: call.phase === 'inviting' ? 'invite' : 'failed',
            liveness: 'ended',
            why: 'ice_failed',
          });
        });
      }
    });
  }

  /**
   * A link message or RTCP feedback over its budget: answered `M_LIMIT_EXCEEDED` at most once a second; past
   * the flood bound the link is hung up (`unknown_error`, `M_LIMIT_EXCEEDED`) and the policy relinks it
   * after its backoff, as after a failure.
   */
  #refused(call: LinkCall, admitted: Exclude<Admission, 'ok'>, what: string): void {
    call.limited++;
    if (admitted === 'refused_reply') {
      call.send({ kind: 'error', errcode: 'M_LIMIT_EXCEEDED', error: `too many ${what}` });
    } else if (admitted === 'flood') {
      this.#c.log.warn({ remote: call.remote, callId: call.callId, what }, 'link flood: hanging up');
      this.#end(call, {
        hangup: 'unknown_error',
        error: { errcode: 'M_LIMIT_EXCEEDED', error: `${what} far over the budget` },
        report: 'failed',
        liveness: 'ended',
        why: 'flood',
      });
    }
  }

  #onMessage(r: RemoteLink, call: LinkCall, msg: LinkMessage): void {
    if (msg.kind === 'alive') {
      r.feed({ kind: 'alive' }, this.#c.services.clock.now());
      if (msg.id !== undefined) {
        call.send({ kind: 'ack', id: msg.id });
      }
      return;
    }
    r.relay.handle(msg);
  }

  /** Ends `callId` to `remote` if it is current: linger → teardown; crossing, replaced → unreported. */
  endCallId(remote: FocusId, callId: string, why: 'linger' | 'crossing' | 'replaced'): void {
    const call = this.#remotes.get(remote)?.call;
    if (call?.callId !== callId || call.closed) {
      return;
    }
    this.#end(
      call,
      why === 'linger'
        ? { hangup: 'user_hangup', report: 'teardown', liveness: 'closed', why }
        : { hangup: 'user_hangup', report: 'none', liveness: 'none', why },
    );
  }

  #end(call: LinkCall, how: EndHow): void {
    if (call.closed) {
      return;
    }
    const { clock } = this.#c.services;
    const now = clock.now();
    call.closed = true;
    call.setupTimer?.cancel();
    this.#c.linkEnded(call.ref);
    if (how.hangup !== null) {
      call.sendHangup(how.hangup, how.error);
    }
    this.#c.log.info({ remote: call.remote, callId: call.callId, why: how.why }, 'link call ended');
    const r = this.#remotes.get(call.remote);
    r?.detach(call);
    if (how.report === 'invite') {
      this.#policy.inviteFailed(call.remote, now);
    } else if (how.report !== 'none') {
      this.#policy.linkEnded(call.remote, now, how.report);
    }
    if (r !== undefined && how.liveness !== 'none') {
      r.feed({ kind: how.liveness }, now);
    }
    this.#remotes.forgetIdle();
    this.#changed();
  }

  #iceRestart(call: LinkCall): void {
    this.#c.later('link ice restart', async () => {
      try {
        const sdp = await call.peer.restartIce();
        if (!call.closed) {
          call.restartPending = true;
          call.sendRestartOffer(sdp);
        }
      } catch (e) {
        this.#c.log.warn({ remote: call.remote, err: toError(e).message }, 'link ICE restart failed');
      }
    });
  }

  #relink(call: LinkCall, cause: SuspendCause): void {
    this.#c.services.metrics.linkRelink(cause);
    this.#end(call, { hangup: 'ice_failed', report: 'relink', liveness: 'none', why: `relink:${cause}` });
  }
}
