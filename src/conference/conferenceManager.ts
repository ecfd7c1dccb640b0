/**
 * Routes to-device call events to conferences (protocol.md §4): validates them, resolves the room of an invite
 * (holding it up to `auth.membership_wait_s` while its membership may still be on its way), finds the session of
 * every other event, answers malformed events with a hangup + error object, and turns membership revocations
 * into re-checks. One Conference per `(room_id, conf_id)`.
 */
import { parseCallEvent, type CallEvent } from '../protocol/toDevice.js';
import type { TimerHandle } from '../util/clock.js';
import { Conference } from './conference.js';
import { IndexHost, sessionCommand } from './conferenceIndex.js';
import { EarlyCandidates } from './earlyCandidates.js';
import { InviteBudget, onOverBudget } from './inviteBudget.js';
import type { ConferenceServices } from './core.js';
import type { ConferenceMetrics } from './metrics.js';
import type { Revocation } from './ports.js';
import { sendRefusal, type CallAddress } from './refusal.js';
import { participantKey, sessionIndexKey, type SessionIds } from './session.js';

/** The change stream of the membership module. */
export interface MembershipChanges {
  on(event: 'revoked', fn: (r: Revocation) => void): unknown;
  on(event: 'terminated', fn: (t: { roomId: string; callId: string }) => void): unknown;
  on(event: 'changed', fn: (roomId: string | undefined) => void): unknown;
}

export interface ConferenceManagerDeps extends ConferenceServices {
  metrics: ConferenceMetrics;
  changes: MembershipChanges;
  membershipWaitMs: number;
}

export interface IncomingToDevice {
  type: string;
  sender: string;
  content: Record<string, unknown>;
}

type InviteEvent = Extract<CallEvent, { type: 'm.call.invite' }>;
type Candidate = { candidate: string; sdpMid?: string; sdpMLineIndex?: number; usernameFragment?: string };

interface HeldInvite {
  sender: string;
  event: InviteEvent;
  candidates: Candidate[];
  timer: TimerHandle;
}

export class ConferenceManager {
  readonly #d: ConferenceManagerDeps;
  readonly #conferences = new Map<string, Conference>();
  /** sessionIndexKey → the conference holding that session or link call (§8.1). */
  readonly #index = new Map<string, Conference>();
  /** The keys of #index that are link calls. */
  readonly #linkKeys = new Set<string>();
  readonly #held = new Map<string, HeldInvite>();
  /** Invites per device (inviteBudget.ts): over the budget, refused before any work. */
  readonly #invites: InviteBudget;
  /** Candidates that came before their invite. */
  readonly #early: EarlyCandidates<Candidate>;
  #closed = false;
  #instances = 0;

  constructor(deps: ConferenceManagerDeps) {
    this.#d = deps;
    this.#invites = new InviteBudget(deps.limits.device_invites_per_second);
    this.#early = new EarlyCandidates(deps.clock, deps.membershipWaitMs + 5000, () => {
      deps.metrics.signallingIgnored.inc({ reason: 'unknown_call' });
    });
    deps.metrics.setSessionCounter(() => this.sessionCount);
    deps.metrics.setLinkSource(() => [...this.#conferences.values()].flatMap((c) => c.links.snapshot()));
    deps.changes.on('revoked', (r) => {
      this.#onRevoked(r);
    });
    deps.changes.on('terminated', (t) => {
      this.#forRoom(t.roomId, (c) => void c.dispatch({ kind: 'recheck' }));
    });
    deps.changes.on('changed', (roomId) => {
      this.#retryHeld();
      if (roomId !== undefined) {
        // e.g. a format (a) membership whose session_id changed (protocol.md §3.1).
        this.#forRoom(roomId, (c) => void c.dispatch({ kind: 'recheck' }));
      }
    });
  }

  get sessionCount(): number {
    return this.#index.size - this.#linkKeys.size;
  }

  /** Link calls to other foci, over all conferences. */
  get linkCount(): number {
    return this.#linkKeys.size;
  }

  get conferenceCount(): number {
    return this.#conferences.size;
  }

  /** Snapshot for /status. */
  status(): { conferences: number; sessions: number; links: number; held_invites: number } {
    return {
      conferences: this.#conferences.size,
      sessions: this.sessionCount,
      links: this.#linkKeys.size,
      held_invites: this.#held.size,
    };
  }

  /** §8.7 start-up rebuild: links.rebuild() on a new conference; `exists`: it has sessions or links already. */
  rebuild(roomId: string, confId: string): 'rebuilt' | 'exists' | 'closed' {
    if (this.#closed) {
      return 'closed';
    }
    const conf = this.#conference(roomId, confId);
    const vacant = conf.vacant;
    conf.links[vacant ? 'rebuild' : 'recheck']();
    return vacant ? 'rebuilt' : 'exists';
  }

  /** The live conferences, oldest first (the /status detail lists some of them). */
  list(): IterableIterator<Conference> {
    return this.#conferences.values();
  }

  /** Handles one to-device event addressed to the focus. Never throws. */
  handleToDevice(ev: IncomingToDevice): void {
    if (this.#closed) {
      return;
    }
    const parsed = parseCallEvent(
      ev.type,
      ev.content,
      { maxInviteSdpBytes: this.#d.limits.max_invite_sdp_bytes },
      {
        userId: this.#d.focus.user_id,
        deviceId: this.#d.focus.device_id,
      },
    );
    if (!parsed.ok) {
      this.#onInvalid(ev, parsed);
      return;
    }
    const e = parsed.event;
    if (e.type === 'm.call.invite') {
      this.#onInvite(ev.sender, e);
      return;
    }
    const key = sessionIndexKey(ev.sender, e.deviceId, e.callId, e.senderSessionId);
    // Only a link call this focus initiated receives an answer (§8.1); for anything else it is unknown.
    const found = e.type === 'm.call.answer' && !this.#linkKeys.has(key) ? undefined : this.#index.get(key);
    if (found === undefined) {
      this.#onNoSession(ev.sender, e);
      return;
    }
    void found.dispatch(sessionCommand(ev.sender, e));
  }

  /** Hangs up every session (user_hangup) and stops; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    for (const h of this.#held.values()) {
      h.timer.cancel();
    }
    this.#held.clear();
    this.#early.clear();
    await Promise.all(
      [...this.#conferences.values()].map((c) => c.dispatch({ kind: 'shutdown', reason: 'shutdown' })),
    );
  }

  // --- invites ----------------------------------------------------------------------------------

  #onInvite(sender: string, e: InviteEvent): void {
    if (e.cascade) {
      this.#onLinkInvite(sender, e);
      return;
    }
    const pkey = participantKey(sender, e.deviceId);
    const budget = this.#invites.take(pkey, this.#d.clock.now());
    if (budget !== 'ok') {
      const device = { userId: sender, deviceId: e.deviceId };
      onOverBudget(budget, {
        warn: (msg) => {
          this.#d.log.warn(device, msg);
        },
        hangUp: () => {
          for (const c of this.#conferences.values()) {
            void c.dispatch({ kind: 'inviteFlood', device });
          }
        },
        refuse: () => {
          this.#refuse(this.#address(sender, e), 'M_LIMIT_EXCEEDED', 'too many invites from this device');
        },
      });
      this.#d.metrics.invite('refused');
      return;
    }
    const held = this.#held.get(pkey);
    if (held !== undefined) {
      // A newer invite from the same device supersedes the held one.
      held.timer.cancel();
      this.#held.delete(pkey);
    }
    const res = this.#d.oracle.resolveRoom(
      {
        userId: sender,
        deviceId: e.deviceId,
        confId: e.confId,
        focus: this.#d.focus,
        ...(e.roomId !== undefined ? { roomId: e.roomId } : {}),
      },
      this.#d.clock.now(),
    );
    switch (res.kind) {
      case 'room':
        this.#dispatchInvite(
          res.roomId,
          sender,
          e,
          this.#early.take(sender, e.deviceId, e.callId, e.senderSessionId),
        );
        return;
      case 'ambiguous':
        this.#d.metrics.invite('refused');
        this.#refuse(this.#address(sender, e), 'M_INVALID_PARAM', 'ambiguous room, send room_id');
        return;
      case 'none': {
        const timer = this.#d.clock.setTimeout(() => {
          if (this.#held.get(pkey)?.event !== e) {
            return;
          }
          this.#held.delete(pkey);
          this.#d.metrics.invite('refused');
          this.#d.log.info(
            { userId: sender, deviceId: e.deviceId, confId: e.confId },
            'invite refused: no membership',
          );
          this.#refuse(
            this.#address(sender, e),
            'M_FORBIDDEN',
            'no live call membership for this device and conference names this focus',
          );
        }, this.#d.membershipWaitMs);
        this.#held.set(pkey, {
          sender,
          event: e,
          candidates: this.#early.take(sender, e.deviceId, e.callId, e.senderSessionId),
          timer,
        });
        this.#d.log.debug(
          { userId: sender, deviceId: e.deviceId, confId: e.confId },
          'invite held for its membership',
        );
        return;
      }
    }
  }

  /** §8.1: a link invite names its room; the conference's link policy authorizes it (never a session). */
  #onLinkInvite(sender: string, e: InviteEvent): void {
    if (e.roomId === undefined) {
      this.#d.metrics.invite('refused');
      this.#refuse(this.#address(sender, e), 'M_BAD_JSON', 'room_id is required on a link invite (§8.1)');
      return;
    }
    this.#dispatchInvite(
      e.roomId,
      sender,
      e,
      this.#early.take(sender, e.deviceId, e.callId, e.senderSessionId),
      true,
    );
  }

  #retryHeld(): void {
    const now = this.#d.clock.now();
    for (const [pkey, h] of [...this.#held]) {
      const res = this.#d.oracle.resolveRoom(
        { userId: h.sender, deviceId: h.event.deviceId, confId: h.event.confId, focus: this.#d.focus },
        now,
      );
      if (res.kind === 'none') {
        continue;
      }
      h.timer.cancel();
      this.#held.delete(pkey);
      if (res.kind === 'room') {
        this.#dispatchInvite(res.roomId, h.sender, h.event, h.candidates);
      } else {
        this.#d.metrics.invite('refused');
        this.#refuse(this.#address(h.sender, h.event), 'M_INVALID_PARAM', 'ambiguous room, send room_id');
      }
    }
  }

  #dispatchInvite(
    roomId: string,
    sender: string,
    e: InviteEvent,
    candidates: Candidate[],
    cascade = false,
  ): void {
    const conf = this.#conference(roomId, e.confId);
    const ids: SessionIds = {
      userId: sender,
      deviceId: e.deviceId,
      callId: e.callId,
      senderSessionId: e.senderSessionId,
      partyId: e.partyId,
      roomId,
      confId: e.confId,
    };
    // A refused invite that leaves the conference empty drops it (ConferenceHost.empty).
    void conf.dispatch({
      kind: 'invite',
      ids,
      sdp: e.sdp,
      metadata: e.metadata,
      candidates,
      ...(cascade ? { cascade } : {}),
    });
  }

  // --- other events -------------------------------------------------------------------------

  #onNoSession(sender: string, e: Exclude<CallEvent, InviteEvent>): void {
    const held = this.#held.get(participantKey(sender, e.deviceId));
    const matchesHeld =
      held !== undefined &&
      held.event.callId === e.callId &&
      held.event.senderSessionId === e.senderSessionId;
    if (e.type === 'm.call.candidates') {
      if (matchesHeld) {
        held.candidates.push(...e.candidates);
        return;
      }
      // Out of order (candidates before their invite): kept briefly for the invite.
      this.#early.keep(sender, e.deviceId, e.callId, e.senderSessionId, e.candidates);
      return;
    }
    if (e.type === 'm.call.hangup' && matchesHeld) {
      held.timer.cancel();
      this.#held.delete(participantKey(sender, e.deviceId));
      return;
    }
    this.#d.metrics.signallingIgnored.inc({ reason: 'unknown_call' });
    this.#d.log.debug({ sender, type: e.type, callId: e.callId }, 'event for an unknown call dropped');
  }

  #onInvalid(ev: IncomingToDevice, parsed: Extract<ReturnType<typeof parseCallEvent>, { ok: false }>): void {
    const r = parsed.reply;
    if (parsed.errcode === 'M_UNRECOGNIZED') {
      this.#d.metrics.signallingIgnored.inc({ reason: 'unknown_type' });
      return;
    }
    if (r?.callId === undefined || r.deviceId === undefined) {
      this.#d.metrics.signallingIgnored.inc({ reason: 'unaddressable' });
      this.#d.log.debug(
        { sender: ev.sender, type: ev.type, errcode: parsed.errcode },
        'malformed call event dropped',
      );
      return;
    }
    this.#d.log.warn(
      { sender: ev.sender, type: ev.type, errcode: parsed.errcode, error: parsed.error },
      'malformed call event refused',
    );
    if (ev.type === 'm.call.invite') {
      this.#d.metrics.invite('refused');
    }
    // A malformed event for a live session ends it: the client will see the hangup anyway.
    if (r.senderSessionId !== undefined) {
      const found = this.#index.get(sessionIndexKey(ev.sender, r.deviceId, r.callId, r.senderSessionId));
      if (found !== undefined) {
        void found.dispatch({
          kind: 'malformed',
          session: {
            userId: ev.sender,
            deviceId: r.deviceId,
            callId: r.callId,
            senderSessionId: r.senderSessionId,
          },
          errcode: parsed.errcode,
          error: parsed.error,
        });
        return;
      }
    }
    this.#refuse(
      {
        userId: ev.sender,
        deviceId: r.deviceId,
        callId: r.callId,
        senderSessionId: r.senderSessionId ?? '',
        confId: r.confId ?? '',
      },
      parsed.errcode,
      parsed.error,
    );
  }

  #address(sender: string, e: InviteEvent): CallAddress {
    return {
      userId: sender,
      deviceId: e.deviceId,
      callId: e.callId,
      senderSessionId: e.senderSessionId,
      confId: e.confId,
    };
  }

  #refuse(a: CallAddress, errcode: string, error: string): void {
    sendRefusal(this.#d.signal, this.#d.focus.device_id, a, errcode, error);
  }

  #conference(roomId: string, confId: string): Conference {
    const key = JSON.stringify([roomId, confId]);
    let conf = this.#conferences.get(key);
    if (conf === undefined || conf.closed) {
      const { changes: _changes, membershipWaitMs: _wait, ...services } = this.#d;
      const host = new IndexHost(this.#index, this.#conferences, this.#linkKeys, {
        conference: (r, c) => this.#conference(r, c),
      });
      conf = new Conference(roomId, confId, { ...services, host, instance: ++this.#instances });
      host.conf = conf;
      this.#conferences.set(key, conf);
    }
    return conf;
  }

  #forRoom(roomId: string, fn: (c: Conference) => void): void {
    for (const c of this.#conferences.values()) {
      if (c.roomId === roomId) {
        fn(c);
      }
    }
  }

  #onRevoked(r: Revocation): void {
    this.#forRoom(r.roomId, (c) => {
      void c.dispatch({ kind: 'recheck', device: { userId: r.userId, deviceId: r.deviceId } });
    });
  }
}
