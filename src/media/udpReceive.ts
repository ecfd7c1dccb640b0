/**
 * A socket's datagrams in batches (performance-design.md step 3, "own receive path"): node:dgram does, per
 * datagram, a 64-KiB allocation cut down to the datagram, an `rinfo` object of four properties, a MakeCallback
 * (async hooks, a microtask checkpoint) and an event emit; werift's listener then builds an address array. At
 * a 1-subscriber call that was a fifth of the focus's main thread, and most of the idle cost of a connected peer.
 * With the native add-on, `receiveInBatches` stops node:dgram's reading of a socket and watches a duplicate of
 * its fd instead (native/watch.c): on each readable event one callback reads what waits with `recvmmsg`
 * (up to SLOTS datagrams a call, at most ROUNDS calls, then the next event), hands each datagram to `handler`
 * as a Buffer and its address as an `[address, port]` array (the same array while the sender does not change),
 * and ends the batch's turn (turnEnd.ts: the sends it caused leave at once, no `setImmediate`).
 * - A datagram the handler says went to asynchronous code (`true`: werift's STUN, DTLS and SCTP, whose
 *   promises node:dgram let run before the next datagram) ends the callback there: the add-on calls it again
 *   after the microtask checkpoint, and it goes on with the rest of the batch. Media taken on the fast path is
 *   handled synchronously and stays batched. (Without this, werift's DTLS and SCTP saw several datagrams before
 *   their promises ran, and Chromium's data channels did not open.)
 * - Datagrams are views into a slab (64 KiB, from the socket's first datagram on) that is never written again
 *   once handed out (a new one when it is full): a handler may keep one, as node:dgram's own Buffers may be kept.
 *   (Reading into one slab again saves the kernel a page fault per 4 KiB of fresh slab, but the slabs' churn is
 *   also what starts V8's short scavenges for external memory: without it a meeting's scavenges came later and
 *   took 8–10 ms instead of 1–3 — bench/README.md "The receive slab: reused, then not".)
 * - A datagram longer than SLOT_BYTES is cut by the kernel: it is dropped and counted (`truncated`); WebRTC
 *   stacks keep datagrams under the path MTU (≈ 1,200–1,500 bytes).
 * - The socket's sends, its options and its close stay node:dgram's; on 'close' the watch stops and its fd is
 *   closed. A receive error other than "nothing waiting" gives the socket back to node:dgram's reading.
 * Without the add-on (or with SFU_NATIVE=0, or SFU_RECV_BATCH=0 for this path alone), or for a socket whose
 * node:dgram handle cannot be read, nothing changes and node:dgram's 'message' events go on.
 */
import { Buffer } from 'node:buffer';
import type { NativeSrtpBinding, NativeWatch } from './srtp/nativeSrtp.js';
import { batchBinding, stateOf, type UdpHandle } from './udpBatch.js';
import { isRtp, quietSockets, type QuietMember, type QuietSockets, type Readiness } from './quietSockets.js';
import { turnEnd } from './turnEnd.js';

/** What one slot of the slab holds at most (a longer datagram is cut, dropped and counted). */
export const SLOT_BYTES = 2048;
/** Datagrams per `recvmmsg`. */
export const SLOTS = 32;
/** `recvmmsg` calls per readable event (the rest waits for the next event: other sockets get their turn). */
export const ROUNDS = 4;
/** 64 KiB: one full `recvmmsg`; a socket holds one from its first datagram on (a new one when < 4 slots are left). */
const SLAB_BYTES = SLOT_BYTES * SLOTS;
const META_WORDS = 9;
/** The meta word with how long the datagram waited in its socket (µs; -1 unknown): native/udp.h. */
const WAITED = 8;
const TRUNCATED = 1;
const EBADF = 9;

/** Handles one datagram; true when it went to code that continues in promises (see above). */
export type DatagramHandler = (data: Buffer, addr: readonly [string, number]) => boolean;

/** The part of a node:dgram socket used here. */
export interface ReceiveSocket {
  once(event: 'close', listener: () => void): unknown;
}

const defaultBinding = receiveBinding();

/**
 * Since start: readable events handled, datagrams handed out, datagrams dropped because they were cut, and
 * slabs allocated.
 */
export const receiveCounts = { batches: 0, datagrams: 0, truncated: 0, slabs: 0 };

/** Thresholds of `receiveWaits.over` (µs): a datagram that waited longer is counted in each it exceeds. */
export const RECEIVE_WAIT_THRESHOLDS_US = [5_000, 20_000, 100_000] as const;

/**
 * How long datagrams read in batches waited in their sockets — from the kernel's arrival time (SO_TIMESTAMPNS)
 * to the read: the time this process took to come to them (an event-loop stall shows here first).
 * `current` is the wait of the datagram being handed out, for its handler's synchronous run only (-1 at any
 * other time, or when the kernel gave no arrival time: node:dgram's reading has none); `maxUs` the longest
 * since `takeMax`; `over[i]` counts the waits over RECEIVE_WAIT_THRESHOLDS_US[i] since start.
 */
export const receiveWaits = {
  current: -1,
  maxUs: 0,
  over: [0, 0, 0],
  /** The longest wait since the last call (µs), and starts the next period. */
  takeMax(): number {
    const m = this.maxUs;
    this.maxUs = 0;
    return m;
  },
};

/** Counts one datagram's wait (µs; negative: unknown, not counted). */
function countWait(us: number): void {
  if (us < 0) {
    return;
  }
  if (us > receiveWaits.maxUs) {
    receiveWaits.maxUs = us;
  }
  const over = receiveWaits.over;
  for (
    let i = 0;
    i < RECEIVE_WAIT_THRESHOLDS_US.length && us > (RECEIVE_WAIT_THRESHOLDS_US[i] as number);
    i++
  ) {
    over[i] = (over[i] as number) + 1;
  }
}

const receiving = new WeakSet<object>();
/** Each socket read in batches: its receiver (`markRtpSent`). */
const receivers = new WeakMap<object, BatchReceiver>();

/**
 * RTP was just sent on `socket`: if it is read in batches, its readable events run (again) at once and it is
 * not paused for QUIET_TICKS (quietSockets.ts: the feedback to what is sent must not wait for a tick).
 */
export function markRtpSent(socket: object): void {
  receivers.get(socket)?.active();
}

/** The binding to receive with, or null: no add-on, SFU_NATIVE=0, or SFU_RECV_BATCH=0 (this path alone off). */
export function receiveBinding(env: NodeJS.ProcessEnv = process.env): NativeSrtpBinding | null {
  return env.SFU_RECV_BATCH === '0' ? null : batchBinding(env);
}

/**
 * Takes `socket`'s datagrams into batches for `handler` (see above). True when they now come this way (or
 * already did); false when node:dgram keeps reading them. `onError` hears a handler's exception or the receive
 * error that gave the socket back (each time; the caller logs as it sees fit).
 */
export function receiveInBatches(
  socket: ReceiveSocket,
  handler: DatagramHandler,
  onError: (e: unknown) => void,
  binding: NativeSrtpBinding | null = defaultBinding,
  quiet: QuietSockets = quietSockets,
): boolean {
  if (receiving.has(socket)) {
    return true;
  }
  if (binding === null) {
    return false;
  }
  const state = stateOf(socket);
  const handle = state?.handle;
  const fd = handle?.fd;
  if (
    state === null ||
    handle === null ||
    handle === undefined ||
    typeof fd !== 'number' ||
    fd < 0 ||
    typeof handle.recvStop !== 'function' ||
    typeof handle.recvStart !== 'function'
  ) {
    return false;
  }
  const r = new BatchReceiver(binding, state, handle, handler, onError, quiet);
  let watch: NativeWatch;
  try {
    watch = binding.watchReadable(fd, r.onReadable);
  } catch (e) {
    onError(e);
    return false;
  }
  if (handle.recvStop() !== 0) {
    binding.unwatch(watch);
    return false;
  }
  r.start(watch);
  receiving.add(socket);
  receivers.set(socket, r);
  socket.once('close', () => {
    r.stop();
  });
  return true;
}

/**
 * Quiet sockets' readiness (quietSockets.ts) for sockets read in batches: one `poll()` through the add-on for all
 * the paused ones a tick has, instead of a `recvmmsg` on each (most found nothing). Members of more than one
 * add-on (tests) are all read.
 */
export function pausedReadiness(): Readiness {
  const watches: NativeWatch[] = [];
  return (members, n, ready) => {
    const first = members[0];
    const binding = first instanceof BatchReceiver ? first.binding : undefined;
    let all = binding !== undefined;
    for (let i = 0; i < n && all; i++) {
      const m = members[i];
      const w = m instanceof BatchReceiver && m.binding === binding ? m.watch : undefined;
      if (w === undefined) {
        all = false;
      } else {
        watches[i] = w;
      }
    }
    const r = all && binding !== undefined ? binding.watchesReadable(watches, n, ready) : -1;
    watches.length = 0;
    if (r < 0) {
      ready.fill(1, 0, n); // not asked, or poll() failed: read each
    }
  };
}

quietSockets.useReadiness(pausedReadiness());

class BatchReceiver implements QuietMember {
  readonly #binding: NativeSrtpBinding;
  readonly #state: { readonly handle?: UdpHandle | null };
  readonly #handle: UdpHandle;
  readonly #handler: DatagramHandler;
  readonly #onError: (e: unknown) => void;
  #watch: NativeWatch | undefined;
  #slab = Buffer.alloc(0);
  #offset = 0;
  readonly #meta = new Int32Array(SLOTS * META_WORDS);
  /** The last sender: its meta words (port, family, address) and the array handed out for it. */
  readonly #last = new Int32Array(6);
  #lastAddr: readonly [string, number] | undefined;
  readonly #quiet: QuietSockets;
  /** The quiet tick of the last RTP either way (quietSockets.ts). */
  #activeTick: number;
  /** Readable events stopped: read on the quiet tick. */
  #paused = false;

  constructor(
    binding: NativeSrtpBinding,
    state: { readonly handle?: UdpHandle | null },
    handle: UdpHandle,
    handler: DatagramHandler,
    onError: (e: unknown) => void,
    quiet: QuietSockets,
  ) {
    this.#binding = binding;
    this.#state = state;
    this.#handle = handle;
    this.#handler = handler;
    this.#onError = onError;
    this.#quiet = quiet;
    this.#activeTick = quiet.tick;
  }

  start(watch: NativeWatch): void {
    this.#watch = watch;
    this.#quiet.add(this);
  }

  stop(): void {
    const w = this.#watch;
    this.#watch = undefined;
    this.#quiet.remove(this);
    if (w !== undefined) {
      this.#binding.unwatch(w);
    }
  }

  /** RTP either way now: not quiet; its events again at once if paused. */
  active(): void {
    this.#activeTick = this.#quiet.tick;
    const w = this.#watch;
    if (this.#paused && w !== undefined) {
      this.#paused = false;
      this.#binding.watchPause(w, false);
    }
  }

  onQuietTick(tick: number): boolean {
    const w = this.#watch;
    if (w === undefined) {
      return false;
    }
    if (!this.#paused) {
      if (tick - this.#activeTick < this.#quiet.quietTicks || !this.#binding.watchPause(w, true)) {
        return false;
      }
      this.#paused = true;
    }
    return true;
  }

  readQuiet(): void {
    this.#drain();
  }

  /** The add-on reading this socket (`pausedReadiness` polls every paused socket of one add-on at once). */
  get binding(): NativeSrtpBinding {
    return this.#binding;
  }

  /** The socket's watch; undefined once stopped. */
  get watch(): NativeWatch | undefined {
    return this.#watch;
  }

  /** Reads what waits while paused, as a readable event would (continued after the microtasks when asked). */
  readonly #drain = (): void => {
    if (this.#paused && this.onReadable(0)) {
      setImmediate(this.#drain);
    }
  };

  /** Gives the socket back to node:dgram's reading (a receive error). */
  #giveBack(e: unknown): void {
    this.stop();
    if (this.#state.handle === this.#handle) {
      this.#handle.recvStart?.();
    }
    this.#onError(e);
  }

  /** Called by the add-on on each readable event, and again at once while it returns true. */
  readonly onReadable = (status: number): boolean => {
    const watch = this.#watch;
    if (watch === undefined) {
      return false;
    }
    if (this.#state.handle !== this.#handle) {
      this.stop(); // node:dgram closed it; 'close' comes on the next tick
      return false;
    }
    if (status < 0) {
      this.#giveBack(new Error(`polling the socket failed (libuv error ${status})`));
      return false;
    }
    receiveCounts.batches++;
    turnEnd.hold();
    try {
      return this.#read(watch);
    } finally {
      turnEnd.release();
    }
  };

  /** The batch read last and not yet handed out in full: its first datagram, slot after `next`, and count. */
  #pendingBase = 0;
  #pendingNext = 0;
  #pendingCount = 0;
  #pendingSlab: Buffer = this.#slab;

  /** True when a datagram went to asynchronous code and the rest waits for the next call. */
  #read(watch: NativeWatch): boolean {
    if (this.#pendingNext < this.#pendingCount && this.#deliver()) {
      return true;
    }
    const meta = this.#meta;
    for (let round = 0; round < ROUNDS && this.#watch === watch; round++) {
      if (this.#slab.length - this.#offset < SLOT_BYTES * 4) {
        this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES); // the old one stays with any datagram still held
        this.#offset = 0;
        receiveCounts.slabs++;
      }
      const slab = this.#slab;
      const base = this.#offset;
      const slots = Math.min(SLOTS, Math.floor((slab.length - base) / SLOT_BYTES));
      const n = this.#binding.recvBatch(watch, slab, base, slots, SLOT_BYTES, meta);
      if (n <= 0) {
        if (n < 0 && n !== -EBADF) {
          this.#giveBack(new Error(`receiving from the socket failed (errno ${-n})`));
        }
        return false;
      }
      this.#offset = base + n * SLOT_BYTES;
      this.#pendingSlab = slab;
      this.#pendingBase = base;
      this.#pendingNext = 0;
      this.#pendingCount = n;
      if (this.#deliver()) {
        return true;
      }
      if (n < slots) {
        return false;
      }
    }
    return false;
  }

  /** Hands out the pending datagrams; true when one went to asynchronous code (the rest wait). */
  #deliver(): boolean {
    const meta = this.#meta;
    const slab = this.#pendingSlab;
    while (this.#pendingNext < this.#pendingCount) {
      const i = this.#pendingNext++;
      const m = i * META_WORDS;
      if (((meta[m + 1] as number) & TRUNCATED) !== 0) {
        receiveCounts.truncated++;
        continue;
      }
      const start = this.#pendingBase + i * SLOT_BYTES;
      const data = slab.subarray(start, start + (meta[m] as number));
      receiveCounts.datagrams++;
      const waited = meta[m + WAITED] as number;
      countWait(waited);
      receiveWaits.current = waited;
      if (isRtp(data) && (this.#paused || this.#activeTick !== this.#quiet.tick)) {
        this.active();
      }
      let async = false;
      try {
        async = this.#handler(data, this.#addressOf(i));
      } catch (e) {
        this.#onError(e);
      }
      receiveWaits.current = -1;
      if (async) {
        return true;
      }
    }
    return false;
  }

  /** Datagram i's `[address, port]`: the previous array while the sender is the same. */
  #addressOf(i: number): readonly [string, number] {
    const meta = this.#meta;
    const last = this.#last;
    const m = i * META_WORDS + 2;
    let same = this.#lastAddr !== undefined;
    for (let k = 0; k < 6 && same; k++) {
      same = meta[m + k] === last[k];
    }
    if (same) {
      return this.#lastAddr as readonly [string, number];
    }
    for (let k = 0; k < 6; k++) {
      last[k] = meta[m + k] as number;
    }
    const addr: readonly [string, number] = [this.#binding.metaAddress(meta, i) ?? '', meta[m] as number];
    this.#lastAddr = addr;
    return addr;
  }
}
