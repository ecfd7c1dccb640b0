/** Shared plumbing of the test peers: loopback candidate filter, trickle-only SDP, waiters, held candidates. */
import type { LocalCandidate } from './types.js';

export const LOOPBACK = '127.0.0.1';
export const DEFAULT_DC_LABEL = 'datachannel';
/** Simulcast layers as matrix-js-sdk sends them: low, medium, high. */
export const SIMULCAST_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4 },
  { rid: 'h', scaleResolutionDownBy: 2 },
  { rid: 'f', scaleResolutionDownBy: 1 },
] as const;

/**
 * The ICE settings of every werift test peer: gather on `address` only (werift's interface filter, plus the
 * address itself — werift-notes §5), UDP over IPv4, no STUN/TURN.
 */
export function weriftIce(address: string = LOOPBACK) {
  return {
    iceServers: [],
    iceAdditionalHostAddresses: [address],
    iceInterfaceAddresses: { udp4: address },
    iceUseIpv6: false,
    iceUseTcp: false,
  };
}

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...` on UDP/127.0.0.1. */
export function isLoopbackUdpCandidate(candidate: string): boolean {
  return isUdpCandidateOn(candidate, LOOPBACK);
}

/** A UDP candidate on exactly `address`. */
export function isUdpCandidateOn(candidate: string, address: string): boolean {
  const parts = candidate.replace(/^a=/, '').trim().split(/\s+/);
  return parts.length >= 8 && parts[2]?.toLowerCase() === 'udp' && parts[4] === address;
}

/**
 * Makes an SDP trickle-only and address-free: drops `a=candidate`/`a=end-of-candidates` lines and resets the
 * default address (`m=` port, `c=`, `a=rtcp:`) to the RFC 8840 placeholder `9` / `IN IP4 0.0.0.0`, since
 * libwebrtc copies its best gathered candidate there (often a non-loopback one). Port 0 (rejected) is kept.
 */
export function trickleSdp(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .map((l) => {
      if (l.startsWith('m=')) {
        return l.replace(/^(m=\S+ )(\d+)( )/, (all, head: string, port: string, sp: string) =>
          port === '0' ? all : `${head}9${sp}`,
        );
      }
      if (l.startsWith('c=IN ')) {
        return 'c=IN IP4 0.0.0.0';
      }
      if (l.startsWith('a=rtcp:')) {
        return 'a=rtcp:9 IN IP4 0.0.0.0';
      }
      return l;
    })
    .join('\r\n');
}

export function dataChannelLabel(opt: boolean | string | undefined): string | undefined {
  if (opt === undefined || opt === false) {
    return undefined;
  }
  return opt === true ? DEFAULT_DC_LABEL : opt;
}

export function simulcastWanted(video: boolean | { simulcast: boolean } | undefined): boolean {
  return typeof video === 'object' && video.simulcast;
}

interface Waiter {
  done: () => boolean;
  fail: () => string | undefined;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Candidate fan-out (replayed to every late subscriber), data fan-out (held until the first subscriber), and
 * condition waiters re-evaluated on `changed()`.
 * Every waiter's timer is cleared when it settles, and `shutdown()` rejects the rest.
 */
export class PeerEvents {
  readonly #name: string;
  readonly #candidateCbs: ((c: LocalCandidate) => void)[] = [];
  readonly #candidates: LocalCandidate[] = [];
  readonly #dataCbs: ((text: string) => void)[] = [];
  readonly #data: string[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #address: string;
  #lastWasEnd = false;
  #down = false;

  /** `address`: the one address whose candidates are emitted (default 127.0.0.1). */
  constructor(name: string, address: string = LOOPBACK) {
    this.#name = name;
    this.#address = address;
  }

  /** Emits a gathered candidate if it is UDP on the peer's address (others are dropped), or the end marker `""`. */
  candidate(c: LocalCandidate): void {
    if (this.#down) {
      return;
    }
    if (c.candidate === '') {
      if (this.#lastWasEnd) {
        return;
      }
      this.#lastWasEnd = true;
      c = { candidate: '' };
    } else if (!isUdpCandidateOn(c.candidate, this.#address)) {
      return;
    } else {
      this.#lastWasEnd = false;
    }
    this.#candidates.push(c);
    for (const cb of this.#candidateCbs) {
      cb(c);
    }
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#candidateCbs.push(cb);
    for (const c of this.#candidates) {
      cb(c);
    }
  }

  data(text: string): void {
    if (this.#down) {
      return;
    }
    if (this.#dataCbs.length === 0) {
      this.#data.push(text);
      return;
    }
    for (const cb of this.#dataCbs) {
      cb(text);
    }
  }

  /** Messages that arrived while nobody listened go to the first callback; later ones get only new messages. */
  onData(cb: (text: string) => void): void {
    this.#dataCbs.push(cb);
    for (const text of this.#data.splice(0)) {
      cb(text);
    }
  }

  /** Resolves once `done()` holds; rejects when `fail()` returns a reason, on timeout, or on shutdown. */
  waitUntil(
    what: string,
    timeoutMs: number,
    done: () => boolean,
    fail: () => string | undefined,
  ): Promise<void> {
    if (done()) {
      return Promise.resolve();
    }
    const early = this.#down ? 'peer closed' : fail();
    if (early !== undefined) {
      return Promise.reject(new Error(`${this.#name}: ${what}: ${early}`));
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        done,
        fail,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter, new Error(`${this.#name}: ${what}: timed out after ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Re-evaluates every waiter (call on any state change). */
  changed(): void {
    for (const w of [...this.#waiters]) {
      if (w.done()) {
        this.#settle(w);
      } else {
        const why = w.fail();
        if (why !== undefined) {
          this.#settle(w, new Error(`${this.#name}: ${why}`));
        }
      }
    }
  }

  shutdown(): void {
    this.#down = true;
    for (const w of [...this.#waiters]) {
      this.#settle(w, new Error(`${this.#name}: peer closed`));
    }
  }

  #settle(w: Waiter, err?: Error): void {
    if (!this.#waiters.delete(w)) {
      return;
    }
    clearTimeout(w.timer);
    if (err === undefined) {
      w.resolve();
    } else {
      w.reject(err);
    }
  }
}

/**
 * Remote candidates added before a remote description is set are held and applied right after it (as
 * werift does itself; libwebrtc would reject them). Failures of held candidates surface from
 * setRemoteDescription.
 */
export class HeldCandidates<C> {
  #ready = false;
  readonly #held: C[] = [];

  async add(c: C, apply: (c: C) => Promise<void>): Promise<void> {
    if (!this.#ready) {
      this.#held.push(c);
      return;
    }
    await apply(c);
  }

  async release(apply: (c: C) => Promise<void>): Promise<void> {
    this.#ready = true;
    const errors: unknown[] = [];
    for (const c of this.#held.splice(0)) {
      await apply(c).catch((err: unknown) => errors.push(err));
    }
    if (errors.length > 0) {
      throw new AggregateError(errors, `${errors.length} held remote candidate(s) failed`);
    }
  }
}

/** The reason a connection wait must give up, if any. */
export function connectionFailure(state: string): string | undefined {
  return state === 'failed' || state === 'closed' ? `connectionState is ${state}` : undefined;
}
