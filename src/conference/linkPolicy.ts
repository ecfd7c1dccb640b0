/**
 * When this focus links to the other foci of a conference, and when it lets a link go (protocol.md §8.1, §8.7
 * teardown). Pure: no timers, no I/O. The caller passes `now` (ms) and a random source for the grace jitter, and
 * calls `evaluate` again on every membership or link change and at the returned `nextDeadline`; it carries out
 * the returned actions (to-device invites and hangups) and reports what became of them.
 *
 * Triggers (§8.1): the `connect` op, or (`cascade.auto`) both foci having at least one live member of the
 * conference. The focus that sorts lower (focusId.ts) invites at once, the other after `initiate_grace_s` plus
 * 0–1 s of jitter if no link exists by then. A failed invite is retried after 1, 2, 4 … 30 s while the trigger
 * holds. A link is *needed* while a local participant is left and a live membership names the remote focus;
 * one that is not lingers `linger_s`, then is hung up with `user_hangup` unless it is needed again meanwhile.
 *
 * Rebuild (§8.7, `rebuilt`): a conference rebuilt from room state at start-up invites every remote focus a live
 * membership names at once, whichever side sorts lower. Until a local session starts, the live memberships that
 * name this focus count as local participants only for `linger_s` from the rebuild; then its links are hung up
 * (the linger ran from the rebuild) and nothing is re-invited unless a local session starts.
 *
 * Contract with the caller: after an `invite` action, the next `evaluate` either lists a link to that focus or
 * is preceded by `inviteFailed`; a link that reaches `connected` is reported with `linkConnected`; a hangup
 * action's link leaves the view before the next `evaluate`; a link that disappears from the view is reported with
 * `linkEnded` — except one hung up by a crossing or a replacement (`onInvite`), since the focus stays linked.
 */
import { compareFoci, focusKey, sameFocus, type FocusId } from './focusId.js';
import type {
  LinkPolicyConfig,
  LinkView,
  ConferenceView,
  InviteReason,
  LinkAction,
  RemoteStatus,
  RemoteDecision,
  LinkDecision,
  IncomingInviteDecision,
  ConnectOutcome,
  LinkEndCause,
} from './linkPolicyTypes.js';

export * from './linkPolicyTypes.js';

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const JITTER_MS = 1000;

/** Delay before retry number `failures` (1, 2, 4 … capped at 30 s). */
export function retryDelayMs(failures: number): number {
  const exp = Math.min(Math.max(failures, 1) - 1, 16);
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** exp);
}

interface Book {
  readonly remote: FocusId;
  failures: number;
  retryAt: number | undefined;
  graceAt: number | undefined;
  lingerAt: number | undefined;
  /** A `connect` op asked for this link; holds while the link is needed. */
  connectRequested: boolean;
  /** Liveness gave up on the link: re-invite at once whichever side sorts lower. */
  relink: boolean;
  /** An invite action was returned and its link has not shown up yet. */
  outstanding: boolean;
  /** The conference was rebuilt at start-up: invite at once whichever side sorts lower. */
  rebuild: boolean;
}

export class LinkPolicy {
  readonly #self: FocusId;
  readonly #cfg: LinkPolicyConfig;
  readonly #random: () => number;
  readonly #books = new Map<string, Book>();
  /** Rebuilt and no local session yet: memberships count as local presence until then (§8.7). */
  #provisionalUntil: number | undefined;

  /** `random` returns values in [0, 1) (Math.random in production, a fixed sequence in tests). */
  constructor(self: FocusId, cfg: LinkPolicyConfig, random: () => number) {
    this.#self = self;
    this.#cfg = cfg;
    this.#random = random;
  }

  evaluate(view: ConferenceView, now: number): LinkDecision {
    const actions: LinkAction[] = [];
    const remotes: RemoteDecision[] = [];
    let nextDeadline: number | undefined;
    const row = (status: RemoteStatus, remote: FocusId, when?: number): void => {
      if (when === undefined) {
        remotes.push({ remote, status });
        return;
      }
      remotes.push({ remote, status, at: when });
      nextDeadline = nextDeadline === undefined ? when : Math.min(nextDeadline, when);
    };
    const localLive = this.#liveMembers(view, this.#self);
    if (view.localParticipants > 0) {
      this.#provisionalUntil = undefined;
    }
    const provisional = this.#provisionalUntil;
    const localPresent =
      view.localParticipants > 0 || (localLive > 0 && (provisional === undefined || now < provisional));
    if (provisional !== undefined && now < provisional) {
      nextDeadline = provisional;
    }
    let linkCount = this.#linkCount(view);

    for (const remote of this.#remotes(view)) {
      const key = focusKey(remote);
      const book = this.#book(remote);
      const remoteLive = this.#liveMembers(view, remote);
      const needed = localPresent && remoteLive > 0;
      const links = view.links.filter((l) => sameFocus(l.remote, remote));
      if (!needed) {
        book.connectRequested = false;
        book.relink = false;
        book.rebuild = false;
      }

      if (links.length > 0) {
        book.outstanding = false;
        book.graceAt = undefined;
        book.retryAt = undefined;
        const survivors = this.#resolveDuplicates(links, actions);
        if (needed) {
          book.lingerAt = undefined;
          row('linked', remote);
          continue;
        }
        // A rebuilt conference no local session joined lingers from the rebuild (§8.7).
        book.lingerAt ??= provisional ?? now + this.#cfg.lingerMs;
        if (now < book.lingerAt) {
          row('lingering', remote, book.lingerAt);
          continue;
        }
        for (const l of survivors) {
          actions.push({ kind: 'hangup', remote, callId: l.callId, why: 'linger' });
        }
        book.lingerAt = undefined;
        row('idle', remote);
        continue;
      }

      book.lingerAt = undefined;
      const auto = this.#cfg.auto && localLive > 0 && remoteLive > 0;
      const trigger = needed && (auto || book.connectRequested || book.relink || book.rebuild);
      if (!trigger) {
        this.#books.delete(key);
        row('idle', remote);
        continue;
      }
      if (book.outstanding) {
        row('invited', remote);
        continue;
      }
      let reason: InviteReason;
      if (book.retryAt !== undefined) {
        if (now < book.retryAt) {
          row('backoff', remote, book.retryAt);
          continue;
        }
        reason = 'retry';
      } else if (book.relink) {
        reason = 'relink';
      } else if (book.rebuild) {
        reason = 'rebuild';
      } else if (book.connectRequested) {
        reason = 'connect';
      } else if (compareFoci(this.#self, remote) < 0) {
        reason = 'lower';
      } else {
        book.graceAt ??= now + this.#cfg.initiateGraceMs + this.#jitter();
        if (now < book.graceAt) {
          row('grace', remote, book.graceAt);
          continue;
        }
        reason = 'grace';
      }
      if (linkCount >= this.#cfg.maxLinks) {
        row('max_links', remote);
        continue;
      }
      linkCount++;
      book.outstanding = true;
      book.graceAt = undefined;
      actions.push({ kind: 'invite', remote, reason });
      row('invited', remote);
    }
    return { actions, remotes, nextDeadline };
  }

  /** Our invite to `remote` was refused, timed out or could not be sent. */
  inviteFailed(remote: FocusId, now: number): void {
    const book = this.#book(remote);
    book.outstanding = false;
    book.failures++;
    book.retryAt = now + retryDelayMs(book.failures);
  }

  /** The link to `remote` reached `connected`: the retry schedule starts over. */
  linkConnected(remote: FocusId): void {
    const book = this.#book(remote);
    book.failures = 0;
    book.retryAt = undefined;
    book.relink = false;
    book.rebuild = false;
  }

  /**
   * The conference was rebuilt from room state at start-up (§8.7): unless a local session is already there, the
   * remote foci live memberships name are invited at once by the next `evaluate`, and the memberships naming this
   * focus count as local participants until `now + linger_s` or the first local session.
   */
  rebuilt(view: ConferenceView, now: number): void {
    if (view.localParticipants > 0 || !this.#cfg.auto) {
      return;
    }
    this.#provisionalUntil = now + this.#cfg.lingerMs;
    for (const p of view.foci) {
      if (p.liveMembers > 0 && !sameFocus(p.focus, this.#self)) {
        this.#book(p.focus).rebuild = true;
      }
    }
  }

  /** Rebuilt, no local session yet, and the rebuild's linger (from `rebuilt`) has not run out by `now`. */
  provisional(now: number): boolean {
    return this.#provisionalUntil !== undefined && now < this.#provisionalUntil;
  }

  /** The link to `remote` is gone (hung up by either side or failed). */
  linkEnded(remote: FocusId, now: number, cause: LinkEndCause): void {
    const book = this.#book(remote);
    book.outstanding = false;
    book.lingerAt = undefined;
    switch (cause) {
      case 'teardown':
        this.#books.delete(focusKey(remote));
        return;
      case 'relink':
        book.relink = true;
        book.retryAt = undefined;
        return;
      case 'failed':
        book.failures++;
        book.retryAt = now + retryDelayMs(book.failures);
        return;
    }
  }

  /** An `m.call.invite` with `org.matrix.msc3898.cascade` from `remote` (§8.1 authorization, crossing, bounds). */
  onInvite(remote: FocusId, callId: string, view: ConferenceView): IncomingInviteDecision {
    if (sameFocus(remote, this.#self) || this.#liveMembers(view, remote) === 0) {
      return { kind: 'refuse', errcode: 'M_FORBIDDEN' };
    }
    const links = view.links.filter((l) => sameFocus(l.remote, remote));
    if (links.some((l) => l.callId === callId)) {
      return { kind: 'duplicate' };
    }
    if (links.length === 0) {
      return this.#linkCount(view) >= this.#cfg.maxLinks
        ? { kind: 'refuse', errcode: 'M_LIMIT_EXCEEDED' }
        : { kind: 'accept' };
    }
    const ours = links.find((l) => l.initiator === 'self' && l.state === 'inviting');
    if (ours !== undefined) {
      return compareFoci(this.#self, remote) < 0
        ? { kind: 'crossing', keep: 'ours', hangup: callId }
        : { kind: 'crossing', keep: 'theirs', hangup: ours.callId };
    }
    return { kind: 'replace', hangup: links.map((l) => l.callId) };
  }

  /**
   * The `connect` op (§8.1): each focus must be named by a live member of the conference, else `M_FORBIDDEN`
   * for that entry; an existing link (or invite) is a no-op; otherwise the focus is invited at once (skipping
   * any grace or backoff), within `cascade.max_links`.
   */
  connect(
    foci: readonly FocusId[],
    view: ConferenceView,
    now: number,
  ): { results: readonly ConnectOutcome[]; decision: LinkDecision } {
    const pending: FocusId[] = [];
    const early = new Map<string, ConnectOutcome>();
    for (const focus of foci) {
      const key = focusKey(focus);
      if (early.has(key) || pending.some((p) => sameFocus(p, focus))) {
        continue;
      }
      const book = this.#books.get(key);
      if (sameFocus(focus, this.#self)) {
        early.set(key, { focus, outcome: 'self' });
      } else if (this.#liveMembers(view, focus) === 0) {
        early.set(key, { focus, outcome: 'refused', errcode: 'M_FORBIDDEN' });
      } else if (view.links.some((l) => sameFocus(l.remote, focus)) || book?.outstanding === true) {
        early.set(key, { focus, outcome: 'exists' });
      } else {
        const b = this.#book(focus);
        b.connectRequested = true;
        b.retryAt = undefined;
        b.graceAt = undefined;
        pending.push(focus);
      }
    }
    const decision = this.evaluate(view, now);
    const results = foci.map((focus): ConnectOutcome => {
      const done = early.get(focusKey(focus));
      if (done !== undefined) {
        return { ...done, focus };
      }
      const invited = decision.actions.some((a) => a.kind === 'invite' && sameFocus(a.remote, focus));
      if (invited) {
        return { focus, outcome: 'invited' };
      }
      const row = decision.remotes.find((r) => sameFocus(r.remote, focus));
      if (row?.status === 'max_links') {
        return { focus, outcome: 'refused', errcode: 'M_LIMIT_EXCEEDED' };
      }
      // Not needed (no local participant left): nothing to link.
      return { focus, outcome: 'refused', errcode: 'M_FORBIDDEN' };
    });
    return { results, decision };
  }

  #liveMembers(view: ConferenceView, focus: FocusId): number {
    let n = 0;
    for (const p of view.foci) {
      if (sameFocus(p.focus, focus)) {
        n += Math.max(0, p.liveMembers);
      }
    }
    return n;
  }

  /** Remote foci with a link, plus the ones an invite is out to. */
  #linkCount(view: ConferenceView): number {
    const keys = new Set<string>();
    for (const l of view.links) {
      keys.add(focusKey(l.remote));
    }
    for (const [key, book] of this.#books) {
      if (book.outstanding) {
        keys.add(key);
      }
    }
    keys.delete(focusKey(this.#self));
    return keys.size;
  }

  /** Every remote focus named by a live membership or linked, in byte order (max_links goes to the lowest). */
  #remotes(view: ConferenceView): FocusId[] {
    const byKey = new Map<string, FocusId>();
    for (const p of view.foci) {
      if (p.liveMembers > 0) {
        byKey.set(focusKey(p.focus), p.focus);
      }
    }
    for (const l of view.links) {
      byKey.set(focusKey(l.remote), l.remote);
    }
    for (const [key, book] of this.#books) {
      if (book.outstanding || book.retryAt !== undefined) {
        byKey.set(key, book.remote);
      }
    }
    byKey.delete(focusKey(this.#self));
    return [...byKey.values()].sort(compareFoci);
  }

  /**
   * Two links to one focus are crossing invites seen late: the one the lower focus started survives, the other
   * is hung up. Returns the survivors.
   */
  #resolveDuplicates(links: readonly LinkView[], actions: LinkAction[]): readonly LinkView[] {
    if (links.length < 2) {
      return links;
    }
    const remote = links[0]?.remote;
    if (remote === undefined) {
      return links;
    }
    const lowerStarts: LinkView['initiator'] = compareFoci(this.#self, remote) < 0 ? 'self' : 'remote';
    const keep = links.find((l) => l.initiator === lowerStarts) ?? links[0];
    for (const l of links) {
      if (l !== keep) {
        actions.push({ kind: 'hangup', remote, callId: l.callId, why: 'crossing' });
      }
    }
    return keep === undefined ? [] : [keep];
  }

  #book(remote: FocusId): Book {
    const key = focusKey(remote);
    let book = this.#books.get(key);
    if (book === undefined) {
      book = {
        remote,
        failures: 0,
        retryAt: undefined,
        graceAt: undefined,
        lingerAt: undefined,
        connectRequested: false,
        relink: false,
        outstanding: false,
        rebuild: false,
      };
      this.#books.set(key, book);
    }
    return book;
  }

  /** 0 ≤ jitter < 1 s, whatever the injected source returns. */
  #jitter(): number {
    const r = this.#random();
    const clamped = Number.isFinite(r) ? Math.min(Math.max(r, 0), 0.999_999) : 0;
    return clamped * JITTER_MS;
  }
}
