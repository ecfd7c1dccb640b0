/**
 * The trunk packets of one event-loop turn, sent back to back at its end (one `setImmediate` per turn with
 * anything queued) in the order queued — media and retransmissions of every track the link carries. Each
 * packet's header (trunkHeader.ts) is written, SRTP-encrypted and sent only then (`sendTrunkPacket`), so its
 * abs-send-time is its departure time, as the remote focus's delay-based estimate needs (§8.5). Why: the
 * packets a publisher's burst brings in one poll phase then leave together instead of one per received
 * packet, so the receiving process is woken once per burst rather than once per packet; on a shared host
 * (and on loopback, where the sender's `sendto` does the receiver's wake-up) that wake-up was most of the
 * trunk's cost per packet (bench/README.md `trunkSend`). The queue keeps references only (the publisher's
 * payloads are never written, trunkOut.ts keeps them too) in parallel arrays reused turn after turn: nothing is
 * allocated per packet once they have grown.
 */
import type { RTCDtlsTransport } from 'werift';
import type { MediaCounters } from '../mediaMetrics.js';
import { sendSrtp } from '../srtpSend.js';
import type { TrunkHeaderWriter } from './trunkHeader.js';

type Kind = 'audio' | 'video';

/** What sending a trunk packet needs of its link. */
export interface TrunkWire {
  readonly counters: MediaCounters;
  now(): number;
  /** The link's transport when connected. */
  transport(): RTCDtlsTransport | undefined;
  header(kind: Kind): TrunkHeaderWriter;
  /** An RTP packet (or retransmission) of `bytes` went out. */
  sent(bytes: number): void;
}

/** Writes one trunk packet's header (abs-send-time `now`), encrypts and sends it; counted either way. */
export function sendTrunkPacket(
  wire: TrunkWire,
  kind: Kind,
  ssrc: number,
  pt: number,
  seq: number,
  ts: number,
  marker: boolean,
  padding: boolean,
  audioLevel: Uint8Array | undefined,
  payload: Buffer,
  now: number,
): void {
  const dtls = wire.transport();
  if (dtls === undefined) {
    wire.counters.sends.not_ready++;
    return;
  }
  const header = wire.header(kind).write(ssrc, pt, seq, ts, marker, padding, now, audioLevel);
  wire.counters.sends[sendSrtp(dtls, payload, header)]++;
  wire.sent(payload.length + header.serializeSize);
}

const NONE = Buffer.alloc(0);
const MARKER = 1;
const PADDING = 2;
const AUDIO = 4;

export class TrunkQueue {
  readonly #wire: TrunkWire;
  readonly #schedule: (fn: () => void) => void;
  readonly #ssrc: number[] = [];
  readonly #pt: number[] = [];
  readonly #seq: number[] = [];
  readonly #ts: number[] = [];
  readonly #flags: number[] = [];
  readonly #level: (Uint8Array | undefined)[] = [];
  readonly #payload: Buffer[] = [];
  #n = 0;
  #scheduled = false;

  /** `schedule` runs the flush at the end of this turn (default `setImmediate`; tests pass their own). */
  constructor(wire: TrunkWire, schedule: (fn: () => void) => void = (fn) => void setImmediate(fn)) {
    this.#wire = wire;
    this.#schedule = schedule;
  }

  /** Packets queued now. */
  get size(): number {
    return this.#n;
  }

  push(
    kind: Kind,
    ssrc: number,
    pt: number,
    seq: number,
    ts: number,
    marker: boolean,
    padding: boolean,
    audioLevel: Uint8Array | undefined,
    payload: Buffer,
  ): void {
    const i = this.#n++;
    this.#ssrc[i] = ssrc;
    this.#pt[i] = pt;
    this.#seq[i] = seq;
    this.#ts[i] = ts;
    this.#flags[i] = (marker ? MARKER : 0) | (padding ? PADDING : 0) | (kind === 'audio' ? AUDIO : 0);
    this.#level[i] = audioLevel;
    this.#payload[i] = payload;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#onTurnEnd);
    }
  }

  /** Sends what is queued now, in order, stamped with the time of this call. */
  flush(): void {
    const n = this.#n;
    if (n === 0) {
      return;
    }
    this.#n = 0;
    const wire = this.#wire;
    const now = wire.now();
    for (let i = 0; i < n; i++) {
      const f = this.#flags[i] ?? 0;
      const payload = this.#payload[i] ?? NONE;
      const level = this.#level[i];
      this.#payload[i] = NONE;
      this.#level[i] = undefined;
      sendTrunkPacket(
        wire,
        (f & AUDIO) !== 0 ? 'audio' : 'video',
        this.#ssrc[i] ?? 0,
        this.#pt[i] ?? 0,
        this.#seq[i] ?? 0,
        this.#ts[i] ?? 0,
        (f & MARKER) !== 0,
        (f & PADDING) !== 0,
        level,
        payload,
        now,
      );
    }
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
