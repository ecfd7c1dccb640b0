/**
 * Several datagrams to one address in one system call (performance-design.md step 5): the native add-on's
 * `sendBatch` (`sendmmsg` on Linux, native/udp.c; a run of equal-length datagrams — a video frame's packets —
 * as one segmented message, UDP GSO, unless SFU_UDP_GSO=0) on the fd of a werift socket, else — no add-on,
 * SFU_NATIVE=0, a socket whose fd cannot be read, or datagrams libuv still queues for it — one `socket.send`
 * each. The same datagrams leave in the same order either way. A batch the kernel takes only in part (its send
 * buffer full) has the rest handed to `socket.send`, which queues them; while libuv has anything queued for a
 * socket, the batch goes that way too, so nothing overtakes what is queued. Never throws for a send error (the
 * socket's 'error' listener counts those on the `socket.send` path; a failing native send falls back for that
 * socket).
 */
import { Buffer } from 'node:buffer';
import { nativeSrtp, type NativeSrtpBinding } from './srtp/nativeSrtp.js';

/** The part of a node:dgram socket used here. */
export interface BatchSocket {
  send(msg: Buffer, port: number, address: string): void;
}

/** node:dgram's libuv handle (UDPWrap): the parts the add-on paths use. */
export interface UdpHandle {
  readonly fd?: number;
  getSendQueueCount?(): number;
  recvStart?(): number;
  recvStop?(): number;
}

/** node:dgram's state object of a socket: its libuv handle, null once closed. */
export interface DgramState {
  readonly handle?: UdpHandle | null;
}

/**
 * Datagrams of batches since start, by how they left (for `sfu_udp_batched_datagrams_total`): in a `sendmmsg`,
 * by `socket.send`, or not at all because their socket closed before the batch was sent (turnSendQueue.ts).
 */
export const batchCounts = { sendmmsg: 0, socket: 0, closed: 0 };

const EAGAIN = 11;
const ENOBUFS = 105;

/** Per socket: node:dgram's state object (holding the libuv `handle`), or null when it has none. */
const states = new WeakMap<object, DgramState | null>();
/** Sockets the add-on failed on for another reason than a full buffer: `socket.send` only. */
const noNative = new WeakSet<object>();

export function stateOf(socket: object): DgramState | null {
  let s = states.get(socket);
  if (s === undefined) {
    // node:dgram keeps its handle under a symbol described 'state symbol' (`_handle` is a deprecated alias).
    const sym = Object.getOwnPropertySymbols(socket).find((x) => x.description === 'state symbol');
    const v: unknown = sym === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[sym];
    s = typeof v === 'object' && v !== null && 'handle' in v ? (v as DgramState) : null;
    states.set(socket, s);
  }
  return s;
}

/** The binding to batch with, or null (not loaded, or SFU_NATIVE=0). */
export function batchBinding(env: NodeJS.ProcessEnv = process.env): NativeSrtpBinding | null {
  return env.SFU_NATIVE === '0' ? null : (nativeSrtp().binding ?? null);
}

/** Whether batches are segmented (UDP GSO) where the add-on sends them: yes unless SFU_UDP_GSO=0. */
export function gsoWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SFU_UDP_GSO !== '0';
}

const gsoOut = new Float64Array(3);

/**
 * The add-on's segmented sends since start (`sfu_udp_gso_total`): messages, the datagrams they carried, and
 * refusals (a socket whose path would not take them, sent unsegmented since); zeros without the add-on.
 */
export function gsoCounts(binding: NativeSrtpBinding | null = batchBinding()): {
  messages: number;
  datagrams: number;
  refused: number;
} {
  if (binding === null) {
    return { messages: 0, datagrams: 0, refused: 0 };
  }
  binding.gsoStats(gsoOut);
  return { messages: gsoOut[0] ?? 0, datagrams: gsoOut[1] ?? 0, refused: gsoOut[2] ?? 0 };
}

export class UdpBatcher {
  readonly #binding: NativeSrtpBinding | null;
  readonly #gso: boolean;

  /**
   * `binding`: the add-on to send with (default: batchBinding()); null: `socket.send` only. `gso`: runs of
   * equal-length datagrams to one address leave as one segmented message (default: gsoWanted()).
   */
  constructor(binding: NativeSrtpBinding | null = batchBinding(), gso: boolean = gsoWanted()) {
    this.#binding = binding;
    this.#gso = gso;
  }

  get native(): boolean {
    return this.#binding !== null;
  }

  /** Whether `send` can use the add-on for this socket (loaded, and a node:dgram socket with an fd). */
  canBatch(socket: BatchSocket): boolean {
    return this.#handle(socket) !== undefined;
  }

  /** The libuv handle the add-on can send on for this socket (its fd open), or undefined. */
  #handle(socket: BatchSocket): (UdpHandle & { readonly fd: number }) | undefined {
    if (this.#binding === null || noNative.has(socket)) {
      return undefined;
    }
    const handle = stateOf(socket)?.handle;
    const fd = handle?.fd;
    return handle !== null && handle !== undefined && typeof fd === 'number' && fd >= 0
      ? (handle as UdpHandle & { readonly fd: number })
      : undefined;
  }

  /** False once node:dgram closed the socket (its handle gone); true for a socket this cannot look into. */
  isOpen(socket: BatchSocket): boolean {
    const state = stateOf(socket);
    return state === null || state.handle !== null;
  }

  /**
   * Sends `list[0..count)` to `address`:`port`, in order. Returns how many went in one system call.
   * `transient`: the datagrams' memory is reused after this returns (sendSlab.ts), so what goes to
   * `socket.send` (which keeps it until libuv sends it) is a copy. `offLen`: datagram i is `list[i]`'s bytes
   * `[offLen[2i], offLen[2i] + offLen[2i + 1])` (slices of a slab, no view object made per datagram on the
   * add-on's path).
   */
  send(
    socket: BatchSocket,
    address: string,
    port: number,
    list: readonly Buffer[],
    count: number,
    transient = false,
    offLen?: Int32Array,
  ): number {
    let done = 0;
    const b = this.#binding;
    const handle = count > 0 ? this.#handle(socket) : undefined;
    if (b !== null && handle !== undefined && handle.getSendQueueCount?.() === 0) {
      const r = b.sendBatch(handle.fd, address, port, list, count, offLen, this.#gso);
      if (r > 0) {
        done = r;
      } else if (r !== -EAGAIN && r !== -ENOBUFS) {
        noNative.add(socket); // not usable natively (e.g. an address family the socket has not)
      }
    }
    for (let i = done; i < count; i++) {
      let d = list[i];
      if (d === undefined) {
        continue;
      }
      if (offLen !== undefined) {
        const off = offLen[2 * i] as number;
        d = d.subarray(off, off + (offLen[2 * i + 1] as number));
      }
      socket.send(transient ? Buffer.from(d) : d, port, address);
    }
    batchCounts.sendmmsg += done;
    batchCounts.socket += count - done;
    return done;
  }
}
