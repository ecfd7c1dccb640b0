/**
 * An in-process UDP relay between one test peer and the SFU, on loopback only, that imposes loss, delay and a
 * bandwidth cap per direction — the "bad network" for loss-recovery and bandwidth tests, without root.
 *
 * Two sockets: `clientSide` is what the peer is told the SFU's candidate is; `sfuSide` is what the SFU is told
 * the peer's candidate is (RelayedPeer rewrites the candidates). Datagrams from the peer arrive on clientSide
 * and leave from sfuSide towards the SFU's real address, and the other way round, so each end sees exactly
 * the address it was told about (no peer-reflexive candidates needed).
 *
 * Rules apply to RTP only by default (RFC 7983 demux: first byte 128–191 and a payload type outside the
 * RTCP range), so ICE and DTLS always get through; the bandwidth cap (a serialising queue with a tail-drop
 * limit) applies to every datagram, and so does `blackhole` (an outage: everything dropped while set, queued
 * datagrams too). Random loss uses a seeded PRNG, so a run is repeatable. Every timer is
 * cleared on close; the queue is bounded by its time limit.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface LinkRules {
  /** Probability (0–1) that an RTP datagram is dropped. */
  loss?: number;
  /** Also drop RTCP at the same rate (default false). */
  lossRtcp?: boolean;
  /**
   * A sequence number `loss` dropped is dropped again every time it comes back (a sender whose retransmissions
   * never arrive: loss nobody can repair). Default false.
   */
  lossSticky?: boolean;
  /** Fixed one-way delay added to every datagram, ms. */
  delayMs?: number;
  /** Link capacity in bit/s (every datagram, 28 bytes of IP/UDP overhead counted). Unset = unlimited. */
  bandwidthBps?: number;
  /** The most a datagram may wait in the bandwidth queue before it is tail-dropped (default 150 ms). */
  queueMs?: number;
  /** Drop every datagram (ICE, DTLS, RTP, RTCP), including those already queued, while set. */
  blackhole?: boolean;
}

/** What went through one direction under one RTP SSRC (from the RTP header, in clear under SRTP too). */
export interface SsrcStats {
  /** Payload type of the last packet. */
  pt: number;
  /** RTP datagrams forwarded (retransmitted copies included). */
  packets: number;
  bytes: number;
  /** Forwarded datagrams whose sequence number was forwarded before (retransmissions). */
  repeated: number;
  /** Dropped by `loss`. */
  lost: number;
  /** Distinct sequence numbers dropped by `loss` before any copy of them was forwarded. */
  lostSeqs: number;
  /** Of those, how many a later datagram delivered (repairs): `repaired / lostSeqs` is the repair ratio. */
  repaired: number;
  /** Dropped by `blackhole` or the bandwidth queue. */
  dropped: number;
}

export type Direction = 'up' | 'down';

export interface DirectionStats {
  forwarded: number;
  /** Bytes of RTP datagrams forwarded whose (SSRC, seq) was forwarded before: retransmissions. */
  repeatedRtpBytes: number;
  droppedLoss: number;
  droppedQueue: number;
  /** Datagrams of every kind dropped by `blackhole`. */
  droppedBlackhole: number;
  bytes: number;
  /** RTP by SSRC (first 10,000 SSRCs). */
  perSsrc: Map<number, SsrcStats>;
  /** Forwarded RTCP datagrams by the packet type of their first packet (e.g. 200 SR, 205 RTPFB, 206 PSFB). */
  rtcpByType: Map<number, number>;
  /** Dropped RTP datagrams per SSRC: payload type and sequence numbers (first 100,000 recorded). */
  droppedRtp: Map<number, { pt: number; seqs: number[] }>;
}

interface Queued {
  data: Buffer;
  at: number;
}

interface Addr {
  address: string;
  port: number;
}

const MAX_RECORDED = 100_000;
const MAX_SSRCS = 10_000;

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function packetKind(b: Buffer): 'rtp' | 'rtcp' | 'other' {
  if (b.length < 2 || b[0]! < 128 || b[0]! > 191) {
    return 'other';
  }
  const pt = b[1]! & 0x7f;
  return pt >= 64 && pt <= 95 ? 'rtcp' : 'rtp';
}

class Link {
  rules: LinkRules = {};
  readonly stats: DirectionStats = {
    forwarded: 0,
    repeatedRtpBytes: 0,
    droppedLoss: 0,
    droppedQueue: 0,
    droppedBlackhole: 0,
    bytes: 0,
    perSsrc: new Map(),
    rtcpByType: new Map(),
    droppedRtp: new Map(),
  };
  readonly #random: () => number;
  readonly #send: (b: Buffer) => void;
  readonly #queue: Queued[] = [];
  #busyUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #recorded = 0;
  #closed = false;
  readonly #seen = new Map<number, Set<number>>();
  /** Per SSRC: sequence numbers lost by rule and not forwarded since. */
  readonly #unrepaired = new Map<number, Set<number>>();

  constructor(seed: number, send: (b: Buffer) => void) {
    this.#random = prng(seed);
    this.#send = send;
  }

  /** `lossSticky`: whether this RTP datagram's sequence number was dropped by `loss` and not forwarded since. */
  #droppedBefore(data: Buffer, kind: string, r: LinkRules): boolean {
    if (r.lossSticky !== true || kind !== 'rtp' || data.length < 12) {
      return false;
    }
    return this.#unrepaired.get(data.readUInt32BE(8))?.has(data.readUInt16BE(2)) === true;
  }

  push(data: Buffer): void {
    if (this.#closed) {
      return;
    }
    const r = this.rules;
    const kind = packetKind(data);
    if (r.blackhole === true) {
      this.#blackholed(data, kind);
      return;
    }
    const lossy = kind === 'rtp' || (kind === 'rtcp' && r.lossRtcp === true);
    if (lossy && (r.loss ?? 0) > 0 && (this.#droppedBefore(data, kind, r) || this.#random() < r.loss!)) {
      this.stats.droppedLoss++;
      if (kind === 'rtp' && data.length >= 12) {
        const s = this.#ssrc(data);
        if (s !== undefined) {
          s.lost++;
        }
        const ssrc = data.readUInt32BE(8);
        const seq = data.readUInt16BE(2);
        if (this.#seen.get(ssrc)?.has(seq) !== true) {
          let pending = this.#unrepaired.get(ssrc);
          if (pending === undefined || pending.size > 60_000) {
            pending = new Set();
            this.#unrepaired.set(ssrc, pending);
          }
          if (!pending.has(seq)) {
            pending.add(seq);
            if (s !== undefined) {
              s.lostSeqs++;
            }
          }
        }
      }
      if (kind === 'rtp' && data.length >= 12 && this.#recorded < MAX_RECORDED) {
        const ssrc = data.readUInt32BE(8);
        const entry = this.stats.droppedRtp.get(ssrc) ?? { pt: data[1]! & 0x7f, seqs: [] };
        entry.seqs.push(data.readUInt16BE(2));
        this.stats.droppedRtp.set(ssrc, entry);
        this.#recorded++;
      }
      return;
    }
    const now = performance.now();
    let at = now;
    if (r.bandwidthBps !== undefined && r.bandwidthBps > 0) {
      const start = Math.max(now, this.#busyUntil);
      if (start - now > (r.queueMs ?? 150)) {
        this.stats.droppedQueue++;
        if (kind === 'rtp' && data.length >= 12) {
          const s = this.#ssrc(data);
          if (s !== undefined) {
            s.dropped++;
          }
        }
        return;
      }
      this.#busyUntil = start + (((data.length + 28) * 8) / r.bandwidthBps) * 1000;
      at = this.#busyUntil;
    }
    at += r.delayMs ?? 0;
    if (at <= now && this.#queue.length === 0) {
      this.#out(data);
      return;
    }
    this.#queue.push({ data, at });
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
  }

  #out(data: Buffer): void {
    const kind = packetKind(data);
    if (this.rules.blackhole === true) {
      this.#blackholed(data, kind);
      return;
    }
    this.stats.forwarded++;
    this.stats.bytes += data.length;
    if (data.length >= 12 && kind === 'rtp') {
      const ssrc = data.readUInt32BE(8);
      let seen = this.#seen.get(ssrc);
      if (seen === undefined || seen.size > 60_000) {
        seen = new Set();
        this.#seen.set(ssrc, seen);
      }
      const seq = data.readUInt16BE(2);
      const s = this.#ssrc(data);
      if (s !== undefined) {
        s.packets++;
        s.bytes += data.length;
        s.pt = data[1]! & 0x7f;
      }
      const pending = this.#unrepaired.get(ssrc);
      if (pending?.delete(seq) === true && s !== undefined) {
        s.repaired++;
      }
      if (seen.has(seq)) {
        this.stats.repeatedRtpBytes += data.length;
        if (s !== undefined) {
          s.repeated++;
        }
      } else {
        seen.add(seq);
      }
    } else if (kind === 'rtcp') {
      const pt = data[1]!;
      this.stats.rtcpByType.set(pt, (this.stats.rtcpByType.get(pt) ?? 0) + 1);
    }
    this.#send(data);
  }

  #blackholed(data: Buffer, kind: 'rtp' | 'rtcp' | 'other'): void {
    this.stats.droppedBlackhole++;
    if (kind === 'rtp' && data.length >= 12) {
      const s = this.#ssrc(data);
      if (s !== undefined) {
        s.dropped++;
      }
    }
  }

  /** The stats entry of an RTP datagram's SSRC (created on first sight, up to MAX_SSRCS). */
  #ssrc(data: Buffer): SsrcStats | undefined {
    const ssrc = data.readUInt32BE(8);
    let s = this.stats.perSsrc.get(ssrc);
    if (s === undefined && this.stats.perSsrc.size < MAX_SSRCS) {
      s = {
        pt: data[1]! & 0x7f,
        packets: 0,
        bytes: 0,
        repeated: 0,
        lost: 0,
        lostSeqs: 0,
        repaired: 0,
        dropped: 0,
      };
      this.stats.perSsrc.set(ssrc, s);
    }
    return s;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#queue.length === 0 || this.#closed) {
      return;
    }
    const wait = Math.max(0, this.#queue[0]!.at - performance.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      while (this.#queue.length > 0 && this.#queue[0]!.at <= now + 0.5) {
        this.#out(this.#queue.shift()!.data);
      }
      this.#arm();
    }, wait);
  }
}

export class UdpRelay {
  readonly #clientSide: Socket;
  readonly #sfuSide: Socket;
  readonly #up: Link;
  readonly #down: Link;
  #client: Addr | undefined;
  #sfu: Addr | undefined;
  #closed = false;

  private constructor(clientSide: Socket, sfuSide: Socket, seed: number) {
    this.#clientSide = clientSide;
    this.#sfuSide = sfuSide;
    this.#up = new Link(seed, (b) => {
      if (this.#sfu !== undefined) {
        this.#sfuSide.send(b, this.#sfu.port, this.#sfu.address);
      }
    });
    this.#down = new Link(seed ^ 0x5bd1e995, (b) => {
      if (this.#client !== undefined) {
        this.#clientSide.send(b, this.#client.port, this.#client.address);
      }
    });
    clientSide.on('message', (msg: Buffer, from: RemoteInfo) => {
      this.#client = { address: from.address, port: from.port };
      this.#up.push(msg);
    });
    sfuSide.on('message', (msg: Buffer) => {
      this.#down.push(msg);
    });
  }

  static async create(seed = 1): Promise<UdpRelay> {
    const bind = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => {
          s.off('error', reject);
          s.on('error', () => undefined); // e.g. ICMP port unreachable after a peer closed
          resolve(s);
        });
      });
    return new UdpRelay(await bind(), await bind(), seed);
  }

  /** The port the peer must send to (it stands for the SFU). */
  get clientSidePort(): number {
    return this.#clientSide.address().port;
  }

  /** The port the SFU must send to (it stands for the peer). */
  get sfuSidePort(): number {
    return this.#sfuSide.address().port;
  }

  /**
   * The peer's real candidate address (datagrams from the SFU go there). Kept once known, unless `replace`
   * (a new candidate of the same peer: an ICE restart or a new call); the peer's datagrams update it too.
   */
  setClientAddress(address: string, port: number, replace = false): void {
    if (replace) {
      this.#client = { address, port };
    } else {
      this.#client ??= { address, port };
    }
  }

  /** The SFU's real candidate address (datagrams from the peer go there). */
  setSfuAddress(address: string, port: number): void {
    this.#sfu = { address, port };
  }

  get hasSfuAddress(): boolean {
    return this.#sfu !== undefined;
  }

  /** up = peer → SFU, down = SFU → peer. Takes effect for the next datagram. */
  setRules(dir: Direction, rules: LinkRules): void {
    (dir === 'up' ? this.#up : this.#down).rules = { ...rules };
  }

  stats(dir: Direction): DirectionStats {
    return (dir === 'up' ? this.#up : this.#down).stats;
  }

  /** RTP datagrams dropped so far in one direction whose payload type is one of `pts`. */
  droppedCount(dir: Direction, pts: ReadonlySet<number>): number {
    let n = 0;
    for (const e of this.stats(dir).droppedRtp.values()) {
      if (pts.has(e.pt)) {
        n += e.seqs.length;
      }
    }
    return n;
  }

  close(): void {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    this.#up.close();
    this.#down.close();
    this.#clientSide.close();
    this.#sfuSide.close();
  }
}
