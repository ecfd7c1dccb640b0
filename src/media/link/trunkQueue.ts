/**
 * The trunk packets of one event-loop turn, sent back to back at its end (turnEnd.ts: before the subscribers'
 * datagrams of the turn) in the order queued — media and retransmissions of every track the link carries. Each
 * packet is built in its retransmission slot (trunkOut.ts `build`: header and payload); only then is its
 * abs-send-time set (trunkHeader.ts `restamp`) and the slot SRTP-encrypted into the flush's slab, so the
 * abs-send-time is its departure time, as the remote focus's delay-based estimate needs (§8.5). Why: the
 * packets a publisher's burst brings in one poll phase then leave together instead of one per received
 * packet, so the receiving process is woken once per burst rather than once per packet; on a shared host
 * (and on loopback, where the sender's `sendto` does the receiver's wake-up) that wake-up was most of the
 * trunk's cost per packet (bench/README.md `trunkSend`). The turn's datagrams then leave in one system call
 * (udpBatch.ts: `sendmmsg` through the native add-on, else one `socket.send` each). The queue keeps where each
 * slot is (and the sequence number it was built for: a slot built again within the turn is not sent) in
 * arrays reused turn after turn: nothing is allocated per packet.
 */
import type { RTCDtlsTransport } from 'werift';
import type { MediaCounters } from '../mediaMetrics.js';
import { SendSlab, type SlabSource } from '../sendSlab.js';
import { SentPacket } from '../sentPackets.js';
import { encryptPacketIntoSlab } from '../srtp/srtpSendState.js';
import { prepareSrtpPacket, sendSrtpPacket, slabPathFor, SrtpRoute, type SendResult } from '../srtpSend.js';
import { turnEnd, type Schedule } from '../turnEnd.js';
import { UdpBatcher } from '../udpBatch.js';
import { markRtpSent } from '../udpReceive.js';
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

/**
 * Sends one trunk packet built in its slot (trunkOut.ts) now — its abs-send-time set to `now` — the way the
 * subscribers' datagrams leave (srtpSend.ts `sendSrtpPacket`); counted either way.
 */
export function sendTrunkPacket(wire: TrunkWire, kind: Kind, p: SentPacket, now: number): void {
  const dtls = wire.transport();
  if (dtls === undefined) {
    wire.counters.sends.not_ready++;
    return;
  }
  wire.header(kind).restamp(p.buf, p.off, now);
  wire.counters.sends[sendSrtpPacket(dtls, p)]++;
  wire.sent(p.length);
}

const NONE = Buffer.alloc(0);
/** Packets waiting at most (more: the queue is sent at once); below the smallest ring (trunkOut.ts: 64). */
export const MAX_QUEUED = 64;
const STRIDE = 4;

export class TrunkQueue implements SlabSource {
  readonly #wire: TrunkWire;
  readonly #schedule: Schedule;
  /**
   * Packet i: `#buf[i][#at[4i], #at[4i] + #at[4i + 2])`, its header the first `#at[4i + 1]` bytes, built for
   * sequence number `#at[4i + 3]`.
   */
  readonly #buf: Buffer[] = [];
  readonly #at = new Int32Array(STRIDE * MAX_QUEUED);
  readonly #audio: boolean[] = [];
  #n = 0;
  /** The packet being encrypted (a view of queue entry i for the SentPacket paths; never kept). */
  readonly #packet = new SentPacket(NONE, 0);
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

  /**
   * Queues a packet built in its slot (TrunkOut `build` or `answer`): its bytes are read when the turn ends, so
   * the slot must not be reused before (a ring holds ≥ 64 packets of its SSRC, and more than MAX_QUEUED waiting
   * are sent at once).
   */
  push(kind: Kind, p: SentPacket): void {
    const i = this.#n++;
    const at = this.#at;
    this.#buf[i] = p.buf;
    at[STRIDE * i] = p.off;
    at[STRIDE * i + 1] = p.headerLength;
    at[STRIDE * i + 2] = p.length;
    at[STRIDE * i + 3] = p.seq;
    this.#audio[i] = kind === 'audio';
    if (this.#n >= MAX_QUEUED) {
      this.flush();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#onTurnEnd);
    }
  }

  /** Sends what is queued now, in order, stamped with the time of this call; the datagrams in one batch. */
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
    const p = this.#packet;
    const audio = wire.header('audio');
    const video = wire.header('video');
    const q = this.#at;
    for (let i = 0; i < n; i++) {
      const buf = this.#buf[i] ?? NONE;
      const off = q[STRIDE * i] ?? 0;
      this.#buf[i] = NONE;
      if (dtls === undefined) {
        counters.sends.not_ready++;
        continue;
      }
      if (
        buf.length < off + 4 ||
        ((buf[off + 2] as number) << 8) + (buf[off + 3] as number) !== q[STRIDE * i + 3]
      ) {
        counters.retransmits.missing++; // its slot was built again for a newer packet (a resend within the turn)
        continue;
      }
      p.buf = buf;
      p.off = off;
      p.headerLength = q[STRIDE * i + 1] ?? 0;
      p.length = q[STRIDE * i + 2] ?? 0;
      (this.#audio[i] === true ? audio : video).restamp(p.buf, p.off, now);
      const socket = route.socket;
      const address = route.address;
      const port = route.port;
      let at: number | Buffer | Exclude<SendResult, 'direct'>;
      if (own !== undefined && slab !== undefined) {
        at = encryptPacketIntoSlab(own, slab, p);
        route.length = p.length + own.cipher.rtpOverhead;
      } else {
        at = prepareSrtpPacket(dtls, p, route);
      }
      let out: Buffer;
      let outOff: number;
      let len: number;
      if (typeof at === 'number') {
        out = this.#slab.buffer;
        outOff = at;
        len = route.length;
      } else if (typeof at === 'string') {
        wire.sent(p.length);
        counters.sends[at]++;
        continue;
      } else {
        out = at;
        outOff = 0;
        len = at.length;
      }
      wire.sent(p.length);
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
      this.#batch[k] = out;
      this.#offLen[2 * k] = outOff;
      this.#offLen[2 * k + 1] = len;
      k++;
      bytes += len;
      counters.sends.direct++;
    }
    p.buf = NONE;
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
