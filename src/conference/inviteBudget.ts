/**
 * Invites per device (protocol.md §4.1, issue "Reliability": floods): each `(user, device)` may send
 * `limits.device_invites_per_second` invites a second (default 1) in bursts of ten seconds' worth (at least
 * MIN_BURST); an invite over the budget is refused with
 * `M_LIMIT_EXCEEDED` before any of its work (room resolution, authorization, SDP). A client retrying a failed
 * join every few seconds never meets it. Memory is bounded: past MAX_DEVICES entries, those whose budget is full
 * again are forgotten (an idle device costs nothing). Pure: time is passed in.
 */
export const MIN_BURST = 10;
const BURST_SECONDS = 10;
const MAX_DEVICES = 10_000;

interface Entry {
  tokens: number;
  at: number;
  /** Over the budget since its last accepted invite (the first refusal is the one logged). */
  refusing: boolean;
}

export type InviteVerdict = 'ok' | 'first_refusal' | 'refused';

export class InviteBudget {
  readonly #devices = new Map<string, Entry>();
  readonly #rate: number;
  readonly #burst: number;

  constructor(perSecond: number) {
    this.#rate = perSecond;
    this.#burst = Math.max(MIN_BURST, BURST_SECONDS * perSecond);
  }

  /** Invites one device may send at once. */
  get burst(): number {
    return this.#burst;
  }

  /** Devices tracked now. */
  get size(): number {
    return this.#devices.size;
  }

  /** One invite from device `key` at `now`: accepted, or refused (the first of a run of refusals says so). */
  take(key: string, now: number): InviteVerdict {
    let e = this.#devices.get(key);
    if (e === undefined) {
      if (this.#devices.size >= MAX_DEVICES) {
        this.#prune(now);
      }
      e = { tokens: this.#burst, at: now, refusing: false };
      this.#devices.set(key, e);
    }
    e.tokens = Math.min(this.#burst, e.tokens + (Math.max(0, now - e.at) * this.#rate) / 1000);
    e.at = Math.max(e.at, now);
    if (e.tokens >= 1) {
      e.tokens -= 1;
      e.refusing = false;
      return 'ok';
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
      if (e.tokens + ((now - e.at) * this.#rate) / 1000 >= this.#burst) {
        this.#devices.delete(k);
      }
    }
  }
}
