/**
 * Invites per device (protocol.md §4.1, issue "Reliability": floods): each `(user, device)` may send
 * `limits.device_invites_per_second` invites a second (default 1) in bursts of ten seconds' worth (at least
 * MIN_BURST); an invite over the budget is refused with
 * `M_LIMIT_EXCEEDED` before any of its work (room resolution, authorization, SDP). A client retrying a failed
 * join every few seconds never meets it. A flood is bounded too: refused invites pile up (half the rate forgiven
 * a second); the one that takes the pile past FLOOD_FACTOR × the burst says `flood` (the manager hangs up the
 * device's session and logs it), and until the pile has drained to half the bound refusals are `silent` (not
 * answered: a flood is not echoed to the homeserver invite for invite). Memory is bounded: past MAX_DEVICES entries, those
 * whose budget is full again and whose pile has drained are forgotten (an idle device costs nothing). Pure: time
 * is passed in.
 */
export const MIN_BURST = 10;
const BURST_SECONDS = 10;
const MAX_DEVICES = 10_000;
export const FLOOD_FACTOR = 4;

interface Entry {
  tokens: number;
  at: number;
  /** Over the budget since its last accepted invite (the first refusal is the one logged). */
  refusing: boolean;
  /** Refused invites not yet forgiven. */
  pile: number;
  /** The pile went past the bound and has not come back under it. */
  flooding: boolean;
}

export type InviteVerdict = 'ok' | 'first_refusal' | 'refused' | 'flood' | 'silent';

export class InviteBudget {
  readonly #devices = new Map<string, Entry>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #bound: number;

  constructor(perSecond: number) {
    this.#rate = perSecond;
    this.#burst = Math.max(MIN_BURST, BURST_SECONDS * perSecond);
    this.#bound = FLOOD_FACTOR * this.#burst;
  }

  /** Invites one device may send at once. */
  get burst(): number {
    return this.#burst;
  }

  /** Devices tracked now. */
  get size(): number {
    return this.#devices.size;
  }

  /**
   * One invite from device `key` at `now`: accepted, or refused — the first of a run of refusals says so, the one
   * that takes the pile past the flood bound says `flood`, and while the pile stays over it `silent`.
   */
  take(key: string, now: number): InviteVerdict {
    let e = this.#devices.get(key);
    if (e === undefined) {
      if (this.#devices.size >= MAX_DEVICES) {
        this.#prune(now);
      }
      e = { tokens: this.#burst, at: now, refusing: false, pile: 0, flooding: false };
      this.#devices.set(key, e);
    }
    const elapsed = Math.max(0, now - e.at);
    e.tokens = Math.min(this.#burst, e.tokens + (elapsed * this.#rate) / 1000);
    e.pile = Math.max(0, e.pile - (elapsed * this.#rate) / 2000);
    e.at = Math.max(e.at, now);
    if (e.flooding && e.pile <= this.#bound / 2) {
      e.flooding = false; // drained to half the bound: answered again, and a new flood is a new one
    }
    if (e.tokens >= 1) {
      e.tokens -= 1;
      e.refusing = false;
      return 'ok';
    }
    e.pile += 1;
    if (e.flooding) {
      return 'silent';
    }
    if (e.pile > this.#bound) {
      e.flooding = true;
      return 'flood';
    }
    if (e.refusing) {
      return 'refused';
    }
    e.refusing = true;
    return 'first_refusal';
  }

  /** Forgets the devices whose budget is full again by `now`. */
  #prune(now: number): void {
    for (const [k, e] of this.#devices) {
      const elapsed = now - e.at;
      if (
        e.tokens + (elapsed * this.#rate) / 1000 >= this.#burst &&
        e.pile - (elapsed * this.#rate) / 2000 <= 0
      ) {
        this.#devices.delete(k);
      }
    }
  }
}

/** What the manager does with an invite over its device's budget. */
export interface OverBudgetActions {
  warn(message: string): void;
  /** Hang up the device's session in every conference. */
  hangUp(): void;
  /** Answer the invite with `M_LIMIT_EXCEEDED`. */
  refuse(): void;
}

/**
 * An invite over the budget: the first refusal of a run logged; a flood logged and the device hung up once;
 * every refusal answered except the silent ones.
 */
export function onOverBudget(verdict: Exclude<InviteVerdict, 'ok'>, a: OverBudgetActions): void {
  if (verdict === 'first_refusal') {
    a.warn('invites over the budget: refusing');
  } else if (verdict === 'flood') {
    a.warn('invites far over the budget: hanging up the device, not answering');
    a.hangUp();
  }
  if (verdict !== 'silent') {
    a.refuse();
  }
}
