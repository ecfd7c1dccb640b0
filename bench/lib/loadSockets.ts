/**
 * A load peer's UDP sockets read in batches with the SFU's own reader (src/media/udpReceive.ts) when the native
 * add-on is there: every socket on its readable events (no quiet tick in a load), each datagram handed out with
 * the time it waited in its socket — the kernel's receive timestamp (`SO_TIMESTAMPNS`), `receiveWaits.current`
 * while the handler runs. A latency read "at the socket" (arrival, not the moment the load process got to the
 * datagram) leaves out the load process's own stalls.
 *
 * werift@0.24.4's UDP transport (`iceTransport.connection.protocols[i].transport`, as src/media/udpFastPath.ts
 * and cheapReceive.ts reach it) reads the sender from `rinfo`, which node:dgram set before each datagram: the
 * handler sets it here.
 */
import { QUIET_TICK_MS, QuietSockets } from '../../src/media/quietSockets.js';
import { receiveInBatches, receiveWaits, type ReceiveSocket } from '../../src/media/udpReceive.js';
import { systemClock } from '../../src/util/clock.js';
import { Ticker } from '../../src/util/ticker.js';

export type OnData = (data: Buffer, addr: readonly [string, number]) => void;
/** Handles one datagram; true when werift got it (its handling goes on in promises: the rest waits for them). */
export type Take = (data: Buffer, addr: readonly [string, number]) => boolean;

export interface UdpTransportLike {
  readonly type?: string;
  onData?: OnData;
  rinfo?: unknown;
  readonly socket?: ReceiveSocket;
}

interface DtlsLike {
  readonly iceTransport?: {
    readonly connection?: { readonly protocols?: readonly { type?: string; transport?: UdpTransportLike }[] };
  };
}

/** The load reads every socket on its events (a datagram never waits for a quiet tick). */
const noQuietSockets = new QuietSockets(Ticker.shared(systemClock, QUIET_TICK_MS), 0, false, () => undefined);

/** The UDP transports under `dtls`'s ICE connection (werift's shape; none where it is not this one). */
export function udpTransportsOf(dtls: object): UdpTransportLike[] {
  const out: UdpTransportLike[] = [];
  for (const p of (dtls as DtlsLike).iceTransport?.connection?.protocols ?? []) {
    const t = p.transport;
    if (p.type === 'stun' && t !== undefined && t.type === 'udp' && typeof t.onData === 'function') {
      out.push(t);
    }
  }
  return out;
}

/**
 * Reads `t`'s socket in batches, each datagram to `take` while `t.onData` is still `wrapped` (to the current
 * `onData` — werift's, if it replaced the wrapper — otherwise). False when the socket stays node:dgram's (no
 * add-on, `SFU_NATIVE=0`, or a socket whose handle cannot be read).
 */
function readInBatches(
  t: UdpTransportLike,
  wrapped: OnData,
  take: Take,
  onError: (e: unknown) => void,
): boolean {
  const socket = t.socket;
  if (socket === undefined || typeof socket.once !== 'function') {
    return false;
  }
  let last: readonly [string, number] | undefined;
  const handler: Take = (data, addr) => {
    if (addr !== last) {
      last = addr;
      t.rinfo = { address: addr[0], port: addr[1], family: addr[0].includes(':') ? 'IPv6' : 'IPv4' };
    }
    const onData = t.onData;
    if (onData === wrapped) {
      return take(data, addr);
    }
    onData?.(data, addr);
    return onData !== undefined;
  };
  return receiveInBatches(socket, handler, onError, undefined, noQuietSockets);
}

/**
 * Puts `t`'s datagrams through `makeTake(werift's onData)` (idempotent: a transport already wrapped in `wrapped`
 * is left alone) and its socket on the batch reader. `batchesOnly`: when the socket cannot be read in batches
 * (no add-on), werift's `onData` is put back and the transport is not wrapped. True when wrapped.
 */
export function wrapTransport(
  t: UdpTransportLike,
  wrapped: WeakMap<object, OnData>,
  makeTake: (werift: OnData) => Take,
  onError: (e: unknown) => void,
  batchesOnly: boolean,
): boolean {
  const werift = t.onData;
  if (werift === undefined) {
    return false;
  }
  if (wrapped.get(t) === werift) {
    return true;
  }
  const take = makeTake(werift);
  const fast: OnData = (data, addr) => {
    take(data, addr);
  };
  t.onData = fast;
  if (!readInBatches(t, fast, take, onError) && batchesOnly) {
    t.onData = werift;
    return false;
  }
  wrapped.set(t, fast);
  return true;
}

/** RTP (first byte 128–191) that is not RTCP (packet types 192–223). */
export function isRtpDatagram(data: Buffer): boolean {
  const b0 = data[0];
  const pt = data[1];
  return b0 !== undefined && b0 >= 128 && b0 <= 191 && pt !== undefined && (pt < 192 || pt > 223);
}

/** Arrivals kept at most (the oldest goes first): those werift never delivers (padding, copies) must not pile up. */
const MAX_ARRIVALS = 4096;

/**
 * Each RTP datagram's arrival in its socket (monotonic ms: now less the time it waited there), by SSRC and
 * sequence number, for a peer whose media werift still receives (the `cascade` probe): the packet, once werift
 * hands it over, is matched by the same two numbers (`take`). Known only for datagrams read in batches.
 */
export class SocketArrivals {
  readonly #at = new Map<number, number>();

  /** `data` (an SRTP datagram: its header is clear) arrived `waitedUs` ago (-1: not known). */
  note(data: Buffer, waitedUs: number): void {
    if (waitedUs < 0 || data.length < 12) {
      return;
    }
    const at = Number(process.hrtime.bigint()) / 1e6 - waitedUs / 1000;
    const at_ = this.#at;
    if (at_.size >= MAX_ARRIVALS) {
      at_.delete(at_.keys().next().value!);
    }
    at_.set(data.readUInt32BE(8) * 65536 + data.readUInt16BE(2), at);
  }

  /** The arrival of the packet `ssrc`/`seq` (monotonic ms), once; undefined when not noted. */
  take(ssrc: number, seq: number): number | undefined {
    const key = ssrc * 65536 + seq;
    const at = this.#at.get(key);
    if (at !== undefined) {
      this.#at.delete(key);
    }
    return at;
  }
}

/** The tap installed on each transport. */
const tapped = new WeakMap<object, OnData>();

/**
 * Notes the arrival of every RTP datagram on the UDP transports of `dtlsTransports` into `arrivals` and passes
 * every datagram on to werift as before (idempotent); returns how many transports are tapped and read in batches
 * (0 without the add-on: nothing is changed then).
 */
export function tapSocketArrivals(
  dtlsTransports: readonly object[],
  arrivals: SocketArrivals,
  onError: (e: unknown) => void = () => undefined,
): number {
  // Every datagram goes on to werift; an RTP one's arrival is noted first (known only when read in batches).
  const makeTake =
    (werift: OnData): Take =>
    (data, addr) => {
      if (isRtpDatagram(data)) {
        arrivals.note(data, receiveWaits.current);
      }
      werift(data, addr);
      return true;
    };
  let on = 0;
  for (const d of dtlsTransports) {
    for (const t of udpTransportsOf(d)) {
      if (wrapTransport(t, tapped, makeTake, onError, true)) {
        on++;
      }
    }
  }
  return on;
}
