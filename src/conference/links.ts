/**
 * The links of one conference to other foci (protocol.md §8.1, §8.7, §8.8): LinkPolicy decides when to invite
 * and when to let a link go, evaluated on every membership change, session start and end, link change and at
 * its deadline; its actions are carried out by the conference's LinkCalls (linkCalls.ts), which report back
 * what became of them. Incoming link invites are authorized by the policy (a live membership of the conference
 * names the inviting focus), crossing invites and replacements resolved as it says. Runs on the conference's
 * queue; timers re-enter through `later`.
 */
import type { Logger } from 'pino';
import type { TimerHandle } from '../util/clock.js';
import type { CandidateInit } from './commands.js';
import type { SessionRef } from './conferencePorts.js';
import type { ConferenceServices } from './core.js';
import { focusKey, sameFocus, type FocusId } from './focusId.js';
import { LinkCalls } from './linkCalls.js';
import type { LinkSnapshot } from './linkRemotes.js';
import {
  LinkPolicy,
  linkPolicyConfig,
  type ConferenceView,
  type ConnectOutcome,
  type LinkDecision,
} from './linkPolicy.js';
import type { LinkRelayRouter } from './linkRelay.js';
import type { CallAddress } from './refusal.js';
import type { SessionIds } from './session.js';

/** What the links need of their conference. */
export interface LinkConference {
  readonly roomId: string;
  readonly confId: string;
  readonly log: Logger;
  readonly services: ConferenceServices;
  /** The conference's router (relays add relayed publications and read local ones). */
  readonly router: LinkRelayRouter;
  /** Local sessions. */
  readonly size: number;
  later(what: string, task: () => void | Promise<void>): void;
  /** Relayed publications changed: clients get new metadata, forwarded tracks are pruned. */
  publicationsChanged(): Promise<void>;
  linkStarted(ref: SessionRef): void;
  linkEnded(ref: SessionRef): void;
  /** The last remote link is gone (the conference may close if no session is left either). */
  linksGone(): void;
  refuse(a: CallAddress, errcode: string, error: string): void;
}

export type { LinkSnapshot };

/** A `connect` entry's outcome; `failed`: the invite could not be created or sent. */
export type ConnectResult = ConnectOutcome | { readonly focus: FocusId; readonly outcome: 'failed' };

export class Links {
  readonly #c: LinkConference;
  readonly #policy: LinkPolicy;
  readonly #calls: LinkCalls;
  #policyTimer: TimerHandle | undefined;
  #evaluateQueued = false;
  #closed = false;
  /** Rebuilt from room state and no local session yet (§8.7): the conference stays while this holds. */
  #rebuilding = false;

  constructor(c: LinkConference) {
    this.#c = c;
    const { focus, cascade, random } = c.services;
    const self = { userId: focus.user_id, deviceId: focus.device_id };
    this.#policy = new LinkPolicy(self, linkPolicyConfig(cascade), () => random.random());
    this.#calls = new LinkCalls(c, this.#policy, () => {
      this.recheck();
    });
  }

  /** Remote foci this conference is linked to or keeps relayed tracks of (it must not close meanwhile). */
  get active(): boolean {
    return this.#calls.active || this.#rebuilding;
  }

  /**
   * The conference was rebuilt from room state at start-up (§8.7): its peers are invited at once, and with no
   * local session it stays (links, retries) for `cascade.linger_s` from now, then its links are hung up.
   */
  rebuild(): void {
    this.#c.later('links rebuild', async () => {
      if (this.#closed) {
        return;
      }
      const now = this.#c.services.clock.now();
      this.#policy.rebuilt(this.#view(now), now);
      this.#c.log.info({ provisional: this.#policy.provisional(now) }, 'conference rebuilt from room state');
      // Not provisional (a session is here, or cascade.auto is off): the evaluation below hands it back at once.
      this.#rebuilding = true;
      await this.evaluate();
    });
  }

  /** Whether `ref` addresses a current link call. */
  has(ref: SessionRef): boolean {
    return this.#calls.has(ref);
  }

  snapshot(): LinkSnapshot[] {
    return this.#calls.snapshot();
  }

  /** Local publications changed: each relay re-sends its metadata if it changed. */
  localChanged(): void {
    this.#calls.localChanged();
  }

  /** Membership, sessions or links changed: evaluate the policy (coalesced, on the queue). */
  recheck(): void {
    if (this.#closed || this.#evaluateQueued) {
      return;
    }
    this.#evaluateQueued = true;
    this.#c.later('links recheck', async () => {
      this.#evaluateQueued = false;
      await this.evaluate();
    });
  }

  async evaluate(): Promise<void> {
    if (this.#closed) {
      return;
    }
    const now = this.#c.services.clock.now();
    await this.#carryOut(this.#policy.evaluate(this.#view(now), now));
    if (this.#rebuilding && !this.#policy.provisional(now)) {
      // A local session joined, or the rebuild's linger ran out: the usual rules from here.
      this.#rebuilding = false;
      if (!this.#calls.active) {
        this.#c.linksGone();
      }
    }
  }

  /**
   * The `connect` op (§8.1): per focus, invited / exists / self / refused, or `failed` when its invite could not
   * be sent; resolves once the invites are. Naming this focus itself is a no-op only if a live member names it.
   */
  async connect(foci: readonly { user_id: string; device_id: string }[]): Promise<readonly ConnectResult[]> {
    const now = this.#c.services.clock.now();
    const ids = foci.map((f) => ({ userId: f.user_id, deviceId: f.device_id }));
    if (this.#closed) {
      return ids.map((focus) => ({ focus, outcome: 'refused', errcode: 'M_FORBIDDEN' }));
    }
    const view = this.#view(now);
    const { results, decision } = this.#policy.connect(ids, view, now);
    const failed = await this.#carryOut(decision);
    return results.map((r): ConnectResult => {
      if (r.outcome === 'self' && !view.foci.some((p) => sameFocus(p.focus, r.focus) && p.liveMembers > 0)) {
        return { focus: r.focus, outcome: 'refused', errcode: 'M_FORBIDDEN' };
      }
      return r.outcome === 'invited' && failed.has(focusKey(r.focus))
        ? { focus: r.focus, outcome: 'failed' }
        : r;
    });
  }

  /** An `m.call.invite` with `org.matrix.msc3898.cascade` (§8.1): authorized by the policy, never a session. */
  async invite(ids: SessionIds, sdp: string, candidates: readonly CandidateInit[]): Promise<void> {
    const { metrics, clock, cascade } = this.#c.services;
    const remote: FocusId = { userId: ids.userId, deviceId: ids.deviceId };
    const d = this.#closed
      ? ({ kind: 'refuse', errcode: 'M_FORBIDDEN' } as const)
      : this.#policy.onInvite(remote, ids.callId, this.#view(clock.now()));
    const log = { remote, callId: ids.callId, decision: d.kind };
    switch (d.kind) {
      case 'refuse':
        metrics.invite('refused');
        this.#c.log.info({ ...log, errcode: d.errcode }, 'link invite refused');
        this.#c.refuse(
          ids,
          d.errcode,
          d.errcode === 'M_FORBIDDEN'
            ? 'no live membership of this conference names the inviting focus'
            : `this conference has its maximum of ${cascade.max_links} links`,
        );
        return;
      case 'duplicate':
        metrics.invite('duplicate');
        return;
      case 'crossing':
        this.#c.log.info({ ...log, keep: d.keep }, 'crossing link invites');
        if (d.keep === 'ours') {
          metrics.invite('refused');
          this.#c.refuse(ids, 'M_INVALID_PARAM', 'crossing link invites: the lower focus’s link survives');
          return;
        }
        this.#calls.endCallId(remote, d.hangup, 'crossing');
        await this.#calls.answer(remote, ids, sdp, candidates, 'call');
        return;
      case 'replace':
        for (const callId of d.hangup) {
          this.#calls.endCallId(remote, callId, 'replaced');
        }
        metrics.invite('replaced');
        await this.#calls.answer(remote, ids, sdp, candidates, 'replaced');
        return;
      case 'accept':
        await this.#calls.answer(remote, ids, sdp, candidates, 'call');
        return;
    }
  }

  /** A to-device event of a current link call (from the manager's index). */
  command(ref: SessionRef, cmd: Parameters<LinkCalls['command']>[1]): Promise<void> {
    return this.#calls.command(ref, cmd);
  }

  /** Every link hung up (user_hangup), relays closed, timers stopped (shutdown, conference closed). */
  shutdown(): void {
    this.#closed = true;
    this.#calls.shutdown();
    this.#policyTimer?.cancel();
    this.#policyTimer = undefined;
  }

  /** Carries out the policy's actions; returns the foci whose invite could not be sent. */
  async #carryOut(decision: LinkDecision): Promise<Set<string>> {
    const { clock } = this.#c.services;
    const failed = new Set<string>();
    for (const a of decision.actions) {
      if (a.kind === 'invite') {
        if (!(await this.#calls.invite(a.remote, a.reason))) {
          failed.add(focusKey(a.remote));
        }
      } else {
        this.#calls.endCallId(a.remote, a.callId, a.why === 'linger' ? 'linger' : 'crossing');
      }
    }
    this.#policyTimer?.cancel();
    this.#policyTimer = undefined;
    if (decision.nextDeadline !== undefined && !this.#closed) {
      this.#policyTimer = clock.setTimeout(
        () => {
          this.recheck();
        },
        Math.max(0, decision.nextDeadline - clock.now()),
      );
    }
    return failed;
  }

  #view(now: number): ConferenceView {
    const { oracle } = this.#c.services;
    return {
      foci: oracle.fociPresence(this.#c.roomId, this.#c.confId, now).map((p) => ({
        focus: { userId: p.focus.user_id, deviceId: p.focus.device_id },
        liveMembers: p.liveMembers,
      })),
      localParticipants: this.#c.size,
      links: this.#calls.views(),
    };
  }
}
