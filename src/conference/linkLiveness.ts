/**
 * Liveness of the link to one remote focus (protocol.md §8.7), across the calls that carry it: pure, events in,
 * actions and the next deadline out (the caller passes `now` in ms and calls `handle({ kind: 'tick' })` at the
 * deadline).
 *
 * connected → *suspended* after 3 missed `alive` (`cascade.link_alive_s` apart), or 2 s without RTP/RTCP while
 * streams are demanded over the link → the initiator sends an ICE-restart offer at once (§8.7: within 1 s) → no
 * media 5 s later: hang up and re-invite with a new call_id (`relink`; the invitee gives the initiator's offer its
 * 1 s first, so it gives up at 6 s and the two rarely cross). Alive and media back in time: `resume`. From the
 * suspension on, the remote tracks stay with the clients for `cascade.relink_grace_s`; a new link connected
 * before that rebinds them (`rebind_tracks`), after it they are removed as on departure. An invite from the
 * already-linked focus (a restart, linkPolicy `replace`) starts a new call the same way, and every new link
 * starts with the demand sent at once.
 */

export interface LinkLivenessConfig {
  /** `cascade.link_alive_s` × 1000. */
  readonly aliveIntervalMs: number;
  /** `cascade.relink_grace_s` × 1000. */
  readonly relinkGraceMs: number;
}

export function linkLivenessConfig(c: { link_alive_s: number; relink_grace_s: number }): LinkLivenessConfig {
  return { aliveIntervalMs: c.link_alive_s * 1000, relinkGraceMs: c.relink_grace_s * 1000 };
}

/** `alive` messages missed before a link is suspended. */
export const MISSED_ALIVE_LIMIT = 3;
/** Silence (no RTP or RTCP) that suspends a link while streams are demanded over it. */
export const MEDIA_SILENCE_MS = 2000;
/** After the ICE-restart offer, how long to wait for media before relinking. */
export const RELINK_AFTER_RESTART_MS = 5000;
/** The initiator's window for its ICE-restart offer; the invitee waits this too before its relink timer. */
export const RESTART_WINDOW_MS = 1000;

/**
 * `idle`: no call; `connecting`: a call is being set up (invite, answer, ICE, DC); `connected`; `suspended`;
 * `down`: the call ended or was given up, remote tracks may still be kept for a relink.
 */
export type LivenessState = 'idle' | 'connecting' | 'connected' | 'suspended' | 'down';

export type SuspendCause = 'alive' | 'media';

export type LivenessEvent =
  /** A new call to this focus is being set up: our invite went out, or we answer theirs. */
  | { readonly kind: 'call'; readonly callId: string; readonly initiator: boolean }
  /** The current call's data channel is open. */
  | { readonly kind: 'connected' }
  /** An `alive` arrived on the link. */
  | { readonly kind: 'alive' }
  /** RTP or RTCP arrived on the link. */
  | { readonly kind: 'media' }
  /** Whether streams are demanded over the link, in either direction (we then receive RTP, or RTCP reports). */
  | { readonly kind: 'demand'; readonly expecting: boolean }
  /** An invite from this already-linked focus was accepted as a replacement (linkPolicy `replace`). */
  | { readonly kind: 'replaced'; readonly callId: string }
  /** The call ended without this focus tearing it down (remote hangup, ICE or negotiation failure). */
  | { readonly kind: 'ended' }
  /** This focus tore the link down (linger): the remote tracks go now. */
  | { readonly kind: 'closed' }
  | { readonly kind: 'tick' };

export type LivenessAction =
  | { readonly kind: 'send_alive'; readonly callId: string }
  | { readonly kind: 'suspend'; readonly callId: string; readonly cause: SuspendCause }
  /** Alive and media are back on the same call: request keyframes for the remote tracks. */
  | { readonly kind: 'resume'; readonly callId: string }
  /** Send an ICE-restart offer by to-device `m.call.negotiate` (initiator only). */
  | { readonly kind: 'ice_restart'; readonly callId: string }
  /** Hang up `callId` (reason `ice_failed`, §4.5) and re-invite with a new call_id (linkPolicy `linkEnded`
   * with `relink`); `cause` is the `sfu_link_relinks_total` reason. */
  | {
      readonly kind: 'relink';
      readonly callId: string;
      readonly cause: SuspendCause;
      readonly hangupReason: 'ice_failed';
    }
  /** Rebind the kept remote tracks by `(stream_id, track_id)` to the new call's trunk SSRCs, request keyframes. */
  | { readonly kind: 'rebind_tracks'; readonly callId: string }
  /** Send the current demand (`subscribe` with layer sets, §8.3) on the new call. */
  | { readonly kind: 'send_demand'; readonly callId: string }
  /** Remove the remote tracks from the clients as on departure. */
  | { readonly kind: 'remove_remote_tracks' };

export interface LivenessResult {
  readonly actions: readonly LivenessAction[];
  readonly state: LivenessState;
  /** When to send `tick` if no event comes first; undefined when nothing is timed. */
  readonly deadline: number | undefined;
}

export class LinkLiveness {
  readonly #cfg: LinkLivenessConfig;
  #state: LivenessState = 'idle';
  #callId = '';
  #initiator = false;
  #lastAlive = 0;
  #lastMedia = 0;
  #expecting = false;
  #expectingSince = 0;
  #nextAlive = 0;
  #cause: SuspendCause = 'alive';
  #relinkAt = 0;
  /** Remote tracks of an earlier call are kept with the clients until `#keptUntil`. */
  #kept = false;
  #keptUntil = 0;
  /** Tracks may exist: a call reached `connected` since the last removal. */
  #hasTracks = false;

  constructor(cfg: LinkLivenessConfig) {
    this.#cfg = cfg;
  }

  get state(): LivenessState {
    return this.#state;
  }

  handle(event: LivenessEvent, now: number): LivenessResult {
    const actions: LivenessAction[] = [];
    switch (event.kind) {
      case 'call':
        this.#newCall(event.callId, event.initiator, now);
        break;
      case 'replaced':
        this.#newCall(event.callId, false, now);
        break;
      case 'connected':
        this.#connected(now, actions);
        break;
      case 'alive':
        this.#lastAlive = now;
        this.#maybeResume(now, actions);
        break;
      case 'media':
        this.#lastMedia = now;
        this.#maybeResume(now, actions);
        break;
      case 'demand':
        if (event.expecting && !this.#expecting) {
          this.#expectingSince = now;
        }
        this.#expecting = event.expecting;
        this.#maybeResume(now, actions);
        break;
      case 'ended':
        if (this.#state !== 'idle') {
          this.#keep(now);
          this.#state = this.#kept ? 'down' : 'idle';
        }
        break;
      case 'closed':
        if (this.#hasTracks) {
          actions.push({ kind: 'remove_remote_tracks' });
        }
        this.#reset();
        break;
      case 'tick':
        break;
    }
    this.#timers(now, actions);
    return { actions, state: this.#state, deadline: this.#deadline() };
  }

  #newCall(callId: string, initiator: boolean, now: number): void {
    this.#keep(now);
    this.#callId = callId;
    this.#initiator = initiator;
    this.#state = 'connecting';
  }

  /** A connected or suspended call is being left: keep its remote tracks for the grace (once per outage). */
  #keep(now: number): void {
    if (this.#hasTracks && !this.#kept) {
      this.#kept = true;
      this.#keptUntil = now + this.#cfg.relinkGraceMs;
    }
  }

  #connected(now: number, actions: LivenessAction[]): void {
    if (this.#state !== 'connecting') {
      return;
    }
    this.#state = 'connected';
    this.#lastAlive = now;
    this.#lastMedia = now;
    this.#expectingSince = now;
    this.#nextAlive = now;
    if (this.#kept) {
      actions.push({ kind: 'rebind_tracks', callId: this.#callId });
      this.#kept = false;
    }
    this.#hasTracks = true;
    actions.push({ kind: 'send_demand', callId: this.#callId });
  }

  #aliveDeadline(): number {
    return this.#lastAlive + MISSED_ALIVE_LIMIT * this.#cfg.aliveIntervalMs;
  }

  #mediaDeadline(): number | undefined {
    return this.#expecting ? Math.max(this.#lastMedia, this.#expectingSince) + MEDIA_SILENCE_MS : undefined;
  }

  #healthy(now: number): boolean {
    const media = this.#mediaDeadline();
    return now < this.#aliveDeadline() && (media === undefined || now < media);
  }

  #maybeResume(now: number, actions: LivenessAction[]): void {
    if (this.#state === 'suspended' && this.#healthy(now)) {
      this.#state = 'connected';
      this.#kept = false;
      actions.push({ kind: 'resume', callId: this.#callId });
    }
  }

  #timers(now: number, actions: LivenessAction[]): void {
    if (this.#state === 'connected' || this.#state === 'suspended') {
      if (now >= this.#nextAlive) {
        actions.push({ kind: 'send_alive', callId: this.#callId });
        this.#nextAlive = now + this.#cfg.aliveIntervalMs;
      }
    }
    if (this.#state === 'connected') {
      const media = this.#mediaDeadline();
      const cause: SuspendCause | undefined =
        now >= this.#aliveDeadline() ? 'alive' : media !== undefined && now >= media ? 'media' : undefined;
      if (cause !== undefined) {
        this.#state = 'suspended';
        this.#cause = cause;
        this.#keep(now);
        actions.push({ kind: 'suspend', callId: this.#callId, cause });
        if (this.#initiator) {
          actions.push({ kind: 'ice_restart', callId: this.#callId });
          this.#relinkAt = now + RELINK_AFTER_RESTART_MS;
        } else {
          this.#relinkAt = now + RESTART_WINDOW_MS + RELINK_AFTER_RESTART_MS;
        }
      }
    }
    if (this.#state === 'suspended' && now >= this.#relinkAt) {
      actions.push({ kind: 'relink', callId: this.#callId, cause: this.#cause, hangupReason: 'ice_failed' });
      this.#state = 'down';
    }
    if (this.#kept && this.#state !== 'connected' && now >= this.#keptUntil) {
      actions.push({ kind: 'remove_remote_tracks' });
      this.#kept = false;
      this.#hasTracks = false;
      if (this.#state === 'down') {
        this.#state = 'idle';
      }
    }
  }

  #deadline(): number | undefined {
    const times: number[] = [];
    if (this.#state === 'connected' || this.#state === 'suspended') {
      times.push(this.#nextAlive);
    }
    if (this.#state === 'connected') {
      times.push(this.#aliveDeadline());
      const media = this.#mediaDeadline();
      if (media !== undefined) {
        times.push(media);
      }
    }
    if (this.#state === 'suspended') {
      times.push(this.#relinkAt);
    }
    if (this.#kept && this.#state !== 'connected') {
      times.push(this.#keptUntil);
    }
    return times.length === 0 ? undefined : Math.min(...times);
  }

  #reset(): void {
    this.#state = 'idle';
    this.#callId = '';
    this.#kept = false;
    this.#hasTracks = false;
    this.#expecting = false;
  }
}
