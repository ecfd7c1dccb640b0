/**
 * The datagrams the SFU sends to one socket during one event-loop turn, sent together when the turn ends (one
 * turn end for all sockets, after the link trunks: turnEnd.ts) through a UdpBatcher: with the native add-on each socket's datagrams of the
 * turn leave in one `sendmmsg` (performance-design.md step 5) — a publisher's frame arriving in one poll phase
 * goes to each subscriber in one system call instead of one `sendto` per packet, and without node:dgram's
 * per-send address lookup and nextTick. Order per socket is kept (a datagram for another address on the same
 * socket first sends what is queued before it); at most MAX_PER_SOCKET wait per socket (more: sent at once).
 * A socket that closed before the turn ended gets nothing: those datagrams are counted (`batchCounts.closed`),
 * never thrown. Per socket one reused entry (a WeakMap, so a closed socket's goes with it); nothing is
 * allocated per datagram: a datagram is a buffer and a slice of it (`pushSlice`: the send slab and where in it).
 */
import { Buffer } from 'node:buffer';
import { SendSlab, type SlabSource } from './sendSlab.js';
import { turnEnd, type Schedule } from './turnEnd.js';
import { batchCounts, UdpBatcher, type BatchSocket } from './udpBatch.js';
import { markRtpSent } from './udpReceive.js';

export const MAX_PER_SOCKET = 64;

/** One socket's datagrams of the turn (`entryFor`: a sender may keep it and push to it without a lookup). */
export interface Entry {
  readonly socket: BatchSocket;
  address: string;
  port: number;
  /** Datagram i: `list[i]`'s bytes `[offLen[2i], offLen[2i] + offLen[2i + 1])`. */
  readonly list: Buffer[];
  readonly offLen: Int32Array;
  n: number;
  /** RTP among the datagrams waiting (its receiving side is then not left quiet: udpReceive.ts `markRtpSent`). */
  rtp: boolean;
}

const NONE = Buffer.alloc(0);

export class TurnSendQueue implements SlabSource {
  readonly #batcher: UdpBatcher;
  readonly #schedule: Schedule;
  readonly #entries = new WeakMap<BatchSocket, Entry>();
  readonly #dirty: Entry[] = [];
  #scheduled = false;
  readonly #slab = new SendSlab();

  /**
   * `schedule` runs the flush when the turn ends (default: the process's turn end, after the link trunks;
   * turnEnd.ts; tests pass their own).
   */
  constructor(batcher: UdpBatcher = new UdpBatcher(), schedule: Schedule = turnEnd.scheduler('subscribers')) {
    this.#batcher = batcher;
    this.#schedule = schedule;
  }

  /** Whether queueing gains anything for this socket (the add-on can send on it); else send it at once. */
  accepts(socket: BatchSocket): boolean {
    return this.#batcher.canBatch(socket);
  }

  /**
   * Memory for a datagram this queue will send on `socket` (sendSlab.ts): the queue's slab when the add-on
   * sends on it (synchronously, before the flush resets the slab; a fallback copies), else undefined.
   */
  slabFor(socket: object): SendSlab | undefined {
    return this.#batcher.canBatch(socket as BatchSocket) ? this.#slab : undefined;
  }

  /** Datagrams waiting now (all sockets). */
  get size(): number {
    let n = 0;
    for (const e of this.#dirty) {
      n += e.n;
    }
    return n;
  }

  push(socket: BatchSocket, address: string, port: number, datagram: Buffer): void {
    this.pushSlice(socket, address, port, datagram, 0, datagram.length);
  }

  /**
   * Queues `buf[off, off + len)` as one datagram (a slice of this queue's slab: no view made for it). The bytes
   * must stay as they are until the flush (the slab is reset only then).
   */
  pushSlice(socket: BatchSocket, address: string, port: number, buf: Buffer, off: number, len: number): void {
    this.pushSliceTo(this.entryFor(socket), address, port, buf, off, len);
  }

  /** The socket's entry in this queue (one per socket for the queue's life; `pushSliceTo` queues on it). */
  entryFor(socket: BatchSocket): Entry {
    let e = this.#entries.get(socket);
    if (e === undefined) {
      e = {
        socket,
        address: '',
        port: 0,
        list: [],
        offLen: new Int32Array(2 * MAX_PER_SOCKET),
        n: 0,
        rtp: false,
      };
      this.#entries.set(socket, e);
    }
    return e;
  }

  /** `pushSlice` on the socket's entry (`entryFor`). */
  pushSliceTo(e: Entry, address: string, port: number, buf: Buffer, off: number, len: number): void {
    if (e.n > 0 && (e.address !== address || e.port !== port)) {
      this.#send(e); // another address on this socket: what waits for the old one leaves first
    }
    if (e.n === 0) {
      e.address = address;
      e.port = port;
      this.#dirty.push(e);
    }
    const pt = buf[off + 1] as number; // SRTP and SRTCP keep the header in the clear: RTCP's types are 192–223
    if (pt < 192 || pt > 223) {
      e.rtp = true;
    }
    const i = e.n++;
    e.list[i] = buf;
    e.offLen[2 * i] = off;
    e.offLen[2 * i + 1] = len;
    if (e.n >= MAX_PER_SOCKET) {
      this.#send(e);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(this.#onTurnEnd);
    }
  }

  /** Sends everything waiting now. */
  flush(): void {
    const dirty = this.#dirty;
    for (let i = 0; i < dirty.length; i++) {
      const e = dirty[i];
      if (e !== undefined && e.n > 0) {
        this.#send(e);
      }
    }
    dirty.length = 0;
    this.#slab.reset(); // every datagram taken from it has left (or was copied by a fallback)
  }

  /** Sends one socket's datagrams (its entry stays in `dirty` with n = 0 until the flush clears the list). */
  #send(e: Entry): void {
    const n = e.n;
    e.n = 0;
    if (e.rtp) {
      e.rtp = false;
      markRtpSent(e.socket);
    }
    if (this.#batcher.isOpen(e.socket)) {
      this.#batcher.send(e.socket, e.address, e.port, e.list, n, true, e.offLen);
    } else {
      batchCounts.closed += n;
    }
    for (let i = 0; i < n; i++) {
      e.list[i] = NONE;
    }
  }

  readonly #onTurnEnd = (): void => {
    this.#scheduled = false;
    this.flush();
  };
}
