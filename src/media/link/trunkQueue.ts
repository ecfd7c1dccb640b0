/**
 * The trunk packets of one event-loop turn, sent back to back at its end (turnEnd.ts: before the subscribers'
 * datagrams of the turn) in the order queued — media and retransmissions of every track the link carries. Each
 * packet's header (trunkHeader.ts) is written, SRTP-encrypted and sent only then (`sendTrunkPacket`), so its
 * abs-send-time is its departure time, as the remote focus's delay-based estimate needs (§8.5) — kept with the
 * packet (trunkOut.ts `stamped`) so that a resend is the same bytes under the same SRTP index. Why: the
 * packets a publisher's burst brings in one poll phase then leave together instead of one per received
 * packet, so the receiving process is woken once per burst rather than once per packet; on a shared host
 * (and on loopback, where the sender's `sendto` does the receiver's wake-up) that wake-up was most of the
 * trunk's cost per packet (bench/README.md `trunkSend`). The turn's datagrams then leave in one system call
 * (udpBatch.ts: `sendmmsg` through the native add-on, else one `socket.send` each). The queue keeps references
 * only (the publisher's payloads are never written, trunkOut.ts keeps them too) in parallel arrays reused turn
 * after turn: beyond each datagram, nothing is allocated per packet once they have grown.
 */
import { Buffer } from 'node:buffer';
import type { RTCDtlsTransport } from 'werift';
import type { MediaCounters } from '../mediaMetrics.js';
import { SendSlab, type SlabSource } from '../sendSlab.js';
import { encryptIntoSlab, prepareSrtpAt, sendSrtp, slabPathFor, SrtpRoute } from '../srtpSend.js';
import { turnEnd, type Schedule } from '../turnEnd.js';
import { UdpBatcher } from '../udpBatch.js';
import { markRtpSent } from '../udpReceive.js';
import { absSendTimeValue } from './absSendTime.js';
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

/** Where a sent packet's abs-send-time is kept for its resends (trunkOut.ts `stamped`). */
export interface StampSink {
  stamped(seq: number, absSendTime: number): void;
}

/**
 * The abs-send-time a packet leaves with: `abs` (a resend: the value it first left with), or when −1 the one of
 * now (`nowValue`), then told to `from` to keep.
 */
function departureAbs(from: StampSink | undefined, seq: number, abs: number, nowValue: number): number {
  if (abs >= 0) {
    return abs;
  }
  from?.stamped(seq, nowValue);
  return nowValue;
}

/**
 * Writes one trunk packet's header, encrypts and sends it; counted either way. Its abs-send-time is `abs` (a
 * resend: the 24-bit value it first left with) or, when −1, `now`'s — then told to `from` to keep.
 */
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
  from?: StampSink,
  abs = -1,
): void {
  const dtls = wire.transport();
  if (dtls === undefined) {
    wire.counters.sends.not_ready++;
    return;
  }
  const value = departureAbs(from, seq, abs, absSendTimeValue(now));
  const header = wire.header(kind).write(ssrc, pt, seq, ts, marker, padding, value, audioLevel);
  wire.counters.sent(sendSrtp(dtls, payload, header));
  wire.sent(payload.length + header.serializeSize);
}

const NONE = Buffer.alloc(0);
const MARKER = 1;
const PADDING = 2;
const AUDIO = 4;

export class TrunkQueue implements SlabSource {
  readonly #wire: TrunkWire;
  readonly #schedule: Schedule;
  readonly #ssrc: number[] = [];
  readonly #pt: number[] = [];
  readonly #seq: number[] = [];
  readonly #ts: number[] = [];
  readonly #flags: number[] = [];
  readonly #level: (Uint8Array | undefined)[] = [];
  readonly #payload: Buffer[] = [];
  readonly #from: (StampSink | undefined)[] = [];
  readonly #abs: number[] = [];
  #n = 0;
  #scheduled = false;
  readonly #batcher: UdpBatcher;
  readonly #route = new SrtpRoute();
  /**
   * The datagrams of one flush, to one socket and address (emptied after each send): datagram i is
   * `#batch[i][#offLen[2i], #offLen[2i] + #offLen[2i + 1])` — a slice of the slab (no view object), or a whole
   * buffer where werift's shape gave no slab path.
   */
  readonly #batch: Buffer[] = [];
  #offLen = new Int32Array(128);
  /** The encrypted datagrams of one flush, when the add-on sends them (reset when the flush ends). */
  readonly #slab = new SendSlab();

  /**
   * `schedule` runs the flush at the end of this turn (default: the process's turn end, before the
   * subscribers' queue — turnEnd.ts; tests pass their own);
   * `batcher` sends each flush's datagrams (default: native when the add-on is loaded).
   */
  constructor(
    wire: TrunkWire,
    schedule: Schedule = turnEnd.scheduler('trunk'),
    batcher: UdpBatcher = new UdpBatcher(),
  ) {
    this.#wire = wire;
    this.#schedule = schedule;
    this.#batcher = batcher;
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
    from?: StampSink,
    abs = -1,
  ): void {
    const i = this.#n++;
    this.#ssrc[i] = ssrc;
    this.#pt[i] = pt;
    this.#seq[i] = seq;
    this.#ts[i] = ts;
    this.#flags[i] = (marker ? MARKER : 0) | (padding ? PADDING : 0) | (kind === 'audio' ? AUDIO : 0);
    this.#level[i] = audioLevel;
    this.#payload[i] = payload;
    this.#from[i] = from;
    this.#abs[i] = abs;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#onTurnEnd);
    }
  }

  /**
   * Sends what is queued now, in order, stamped with the time of this call (a resend with the abs-send-time it
   * first left with); the datagrams in one batch.
   */
  flush(): void {
    const n = this.#n;
    if (n === 0) {
      return;
    }
    this.#n = 0;
    const wire = this.#wire;
    const counters = wire.counters;
    const route = this.#route;
    const now = wire.now();
    const dtls = wire.transport();
    // The transport resolved once for the whole flush (nothing in it can change the pair, keys or socket).
    const fast = dtls === undefined ? undefined : slabPathFor(dtls, route, this);
    const own = fast?.own;
    const slab = fast?.slab;
    let k = 0;
    let bytes = 0;
    const nowValue = absSendTimeValue(now);
    for (let i = 0; i < n; i++) {
      const f = this.#flags[i] ?? 0;
      const payload = this.#payload[i] ?? NONE;
      const level = this.#level[i];
      const from = this.#from[i];
      const abs = this.#abs[i] ?? -1;
      this.#payload[i] = NONE;
      this.#level[i] = undefined;
      this.#from[i] = undefined;
      if (dtls === undefined) {
        counters.sends.not_ready++;
        continue;
      }
      const seq = this.#seq[i] ?? 0;
      const value = departureAbs(from, seq, abs, nowValue);
      const header = wire
        .header((f & AUDIO) !== 0 ? 'audio' : 'video')
        .write(
          this.#ssrc[i] ?? 0,
          this.#pt[i] ?? 0,
          seq,
          this.#ts[i] ?? 0,
          (f & MARKER) !== 0,
          (f & PADDING) !== 0,
          value,
          level,
        );
      const socket = route.socket;
      const address = route.address;
      const port = route.port;
      const at =
        own !== undefined && slab !== undefined
          ? encryptIntoSlab(own, slab, payload, header, route)
          : prepareSrtpAt(dtls, payload, header, route, this);
      wire.sent(payload.length + header.serializeSize);
      let buf: Buffer;
      let off: number;
      let len: number;
      if (typeof at === 'number') {
        buf = this.#slab.buffer;
        off = at;
        len = route.length;
      } else if (typeof at === 'string') {
        counters.sent(at);
        continue;
      } else {
        buf = at;
        off = 0;
        len = at.length;
      }
      if (k > 0 && (route.socket !== socket || route.address !== address || route.port !== port)) {
        this.#send(socket, address, port, k, bytes); // the route changed within the turn: what went before first
        k = 0;
        bytes = 0;
      }
      if (2 * k + 2 > this.#offLen.length) {
        const grown = new Int32Array(this.#offLen.length * 2);
        grown.set(this.#offLen);
        this.#offLen = grown;
      }
      this.#batch[k] = buf;
      this.#offLen[2 * k] = off;
      this.#offLen[2 * k + 1] = len;
      k++;
      bytes += len;
      counters.sends.direct++;
    }
    if (k > 0) {
      this.#send(route.socket, route.address, route.port, k, bytes);
    }
    this.#slab.reset(); // every datagram of this flush has left (or was copied by a fallback)
  }

  /** The flush's slab for a socket the add-on sends on (synchronously, within the flush), else undefined. */
  slabFor(socket: object): SendSlab | undefined {
    return this.#batcher.canBatch(socket as Parameters<UdpBatcher['canBatch']>[0]) ? this.#slab : undefined;
  }

  #send(socket: SrtpRoute['socket'], address: string, port: number, k: number, bytes: number): void {
    const batch = this.#batch;
    if (socket !== undefined) {
      this.#batcher.send(socket, address, port, batch, k, true, this.#offLen);
      this.#route.sent(k, bytes);
      markRtpSent(socket); // the trunk's feedback (NACK, REMB) must not wait for a quiet tick
    }
    for (let i = 0; i < k; i++) {
      batch[i] = NONE;
    }
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
