/**
 * Media datagrams straight from the UDP socket to the SFU (performance-design.md §6, step 3). werift passes
 * every datagram through its STUN protocol (a STUN parse attempt), two event dispatches that each start an
 * async function (a promise per datagram per event) and its DTLS transport's handler before the SRTP taps
 * (decryptedRtpTap.ts, srtcpTap.ts) see it. The fast path wraps the `onData` of each UDP transport of the ICE
 * connection under a DTLS transport (werift@0.24.4: `connection.protocols[i].transport`, a StunProtocol over a
 * UdpTransport) and takes a datagram itself when
 * - its first byte is an RTP/RTCP one (128–191; STUN is 0–3, DTLS 20–63: those go on to werift), and
 * - the ICE connection has a nominated pair, and the datagram came on this socket from the remote address of a
 *   pair of this socket whose checks succeeded — the nominated one or another valid pair (werift checks no
 *   source): the two agents need not agree on the pair (werift's controlled side keeps the first nominated pair
 *   it saw, while the controlling client may send on another, or move to another later; the bench's werift
 *   publishers sent every packet from a pair that was not the focus's nominated one, all of it through werift's
 *   chain), and
 * - the transport's current SRTP/SRTCP session has a direct path (own cipher; a sink for RTCP).
 * It is then unprotected and read as the taps do (`receiveRtpDirect`, `receiveRtcpDirect`); one that is not
 * authentic is dropped and counted (`rejected`). A STUN Binding request from such a pair that is an ordinary
 * consent check is answered here (stunBinding.ts says which; werift answers the rest). Anything else goes to
 * werift's `onData` unchanged, so early media, another pair, a TURN or TCP pair, or a werift whose internals
 * moved all keep werift's path.
 * Installation is idempotent and cheap, so the owner retries it on its tick until the pair is up (and after an
 * ICE restart adds sockets; a transport whose `onData` werift replaced is wrapped again).
 */
import {
  consentChecks as processConsent,
  type ConsentChecks,
  type ConsentConnection,
} from './consentChecks.js';
import { receiveRtpDirect } from './decryptedRtpTap.js';
import { receiveRtcpDirect } from './srtcpTap.js';
import { canAnswerBindings, consentAnswer } from './stunBinding.js';
import { receiveInBatches, type DatagramHandler, type ReceiveSocket } from './udpReceive.js';

type OnData = (data: Buffer, addr: readonly [string, number]) => void;

interface UdpTransportLike {
  readonly type?: string;
  onData?: OnData;
  rinfo?: unknown;
  readonly socket?: ReceiveSocket & {
    send: (data: Buffer, port: number, host: string, done: (e: unknown) => void) => void;
  };
}

interface ProtocolLike {
  readonly type?: string;
  readonly transport?: UdpTransportLike;
}

/** werift's CandidatePair (its `remoteAddr` getter makes an array per call: the candidate is read instead). */
interface PairLike {
  readonly protocol?: ProtocolLike;
  readonly remoteCandidate?: { readonly host?: string; readonly port?: number };
  readonly state?: number;
}

interface ConnectionLike extends ConsentConnection {
  readonly protocols?: readonly ProtocolLike[];
  readonly nominated?: PairLike;
  readonly checkList?: readonly PairLike[];
  readonly localUsername?: string;
  readonly localPassword?: string;
  readonly iceControlling?: boolean;
}

const ignoreSendError = (): void => undefined; // as werift's own STUN sends: the client asks again

/**
 * Answers a Binding request from a valid pair when it is an ordinary consent check (stunBinding.ts's
 * `consentAnswer` says which); false (werift's) for anything else.
 */
function answerConsentCheck(
  conn: ConnectionLike,
  protocol: ProtocolLike,
  data: Buffer,
  addr: readonly [string, number],
): boolean {
  const { localUsername, localPassword } = conn;
  const socket = protocol.transport?.socket;
  if (localUsername === undefined || localPassword === undefined || typeof socket?.send !== 'function') {
    return false;
  }
  const local = { ufrag: localUsername, password: localPassword, controlling: conn.iceControlling === true };
  const response = consentAnswer(data, addr, local);
  if (response === undefined) {
    return false;
  }
  socket.send(response, addr[1], addr[0], ignoreSendError);
  return true;
}

/** werift's CandidatePairState.SUCCEEDED: the pair's connectivity check got its answer. */
const PAIR_SUCCEEDED = 3;

function isFrom(pair: PairLike, protocol: ProtocolLike, addr: readonly [string, number]): boolean {
  const c = pair.protocol === protocol ? pair.remoteCandidate : undefined;
  return c !== undefined && c.port === addr[1] && c.host === addr[0];
}

/** A pair of `protocol` from `addr` whose checks succeeded (not the nominated one), or undefined. */
function validPair(
  conn: ConnectionLike,
  protocol: ProtocolLike,
  addr: readonly [string, number],
): PairLike | undefined {
  const list = conn.checkList;
  if (!Array.isArray(list)) {
    return undefined;
  }
  for (const pair of list as readonly PairLike[]) {
    if (pair.state === PAIR_SUCCEEDED && isFrom(pair, protocol, addr)) {
      return pair;
    }
  }
  return undefined;
}

interface DtlsLike {
  readonly iceTransport?: { readonly connection?: ConnectionLike };
}

/** The fast `onData` each wrapped UDP transport got (compared on reinstall: werift may have replaced it). */
const wrapped = new WeakMap<object, (data: Buffer, addr: readonly [string, number]) => boolean>();

function fastOnData(
  dtls: object,
  conn: ConnectionLike,
  protocol: ProtocolLike,
  werift: OnData,
  rejected: () => void,
  consent: ConsentChecks,
): (data: Buffer, addr: readonly [string, number]) => boolean {
  /** The last valid pair other than the nominated one that media came from (kept while it stays valid). */
  let other: PairLike | undefined;
  const fromValidPair = (addr: readonly [string, number]): boolean => {
    const nominated = conn.nominated;
    if (nominated === undefined) {
      return false;
    }
    if (isFrom(nominated, protocol, addr)) {
      return true;
    }
    if (other === undefined || other.state !== PAIR_SUCCEEDED || !isFrom(other, protocol, addr)) {
      other = validPair(conn, protocol, addr);
    }
    return other !== undefined;
  };
  // True when the datagram went to werift (whose handling continues in promises: udpReceive.ts).
  return (data: Buffer, addr: readonly [string, number]): boolean => {
    const b0 = data[0];
    if (b0 !== undefined && b0 >= 128 && b0 <= 191 && data.length >= 8) {
      if (fromValidPair(addr)) {
        const pt = data[1] as number;
        const done = pt >= 192 && pt <= 223 ? receiveRtcpDirect(dtls, data) : receiveRtpDirect(dtls, data);
        if (done !== undefined) {
          if (!done) {
            rejected();
          }
          return false;
        }
      }
    } else if (
      b0 === 0 &&
      canAnswerBindings &&
      fromValidPair(addr) &&
      answerConsentCheck(conn, protocol, data, addr)
    ) {
      return false;
    } else if (b0 === 1 && fromValidPair(addr) && consent.onResponse(conn, protocol, data, addr)) {
      return false; // the answer to the focus's own consent check (consentChecks.ts)
    }
    werift(data, addr);
    return true;
  };
}

/**
 * What werift's 'message' listener did with a datagram, for one read in batches (udpReceive.ts): the transport's
 * `onData` (the fast one once wrapped) with its `rinfo` kept up to date (werift sends to it when given no
 * address).
 */
function batchHandler(t: UdpTransportLike): DatagramHandler {
  let last: readonly [string, number] | undefined;
  return (data, addr) => {
    if (addr !== last) {
      last = addr;
      t.rinfo = { address: addr[0], port: addr[1], family: addr[0].includes(':') ? 'IPv6' : 'IPv4' };
    }
    const onData = t.onData;
    if (onData === undefined) {
      return false;
    }
    // The fast onData says whether werift got it; werift's own (not wrapped yet, or replaced) always does.
    const fast = wrapped.get(t);
    if (fast === onData) {
      return fast(data, addr);
    }
    onData(data, addr);
    return true;
  };
}

/**
 * Puts every UDP socket of `dtls`'s ICE connection on the fast path (those already on it are left alone) and,
 * with the add-on, its reading into batches (udpReceive.ts; `receiveError` hears what gives a socket back to
 * node:dgram); returns how many are on the fast path. 0 where werift's shape is not this one (nothing is
 * changed then).
 */
export function installUdpFastPath(
  dtls: object,
  rejected: () => void,
  receiveError: (e: unknown) => void = () => undefined,
  consent: ConsentChecks = processConsent,
): number {
  const conn = (dtls as DtlsLike).iceTransport?.connection;
  const protocols = conn?.protocols;
  if (conn === undefined || !Array.isArray(protocols)) {
    return 0;
  }
  let on = 0;
  for (const p of protocols as readonly ProtocolLike[]) {
    const t = p.transport;
    if (p.type !== 'stun' || t === undefined || t.type !== 'udp') {
      continue;
    }
    const werift = t.onData;
    if (werift !== undefined && wrapped.get(t) === werift) {
      on++;
      continue;
    }
    const desc = Object.getOwnPropertyDescriptor(t, 'onData');
    if (typeof werift !== 'function' || desc === undefined || desc.writable !== true) {
      continue;
    }
    const fast = fastOnData(dtls, conn, p, werift, rejected, consent);
    wrapped.set(t, fast);
    t.onData = fast;
    on++;
    if (t.socket !== undefined && typeof t.socket.once === 'function') {
      receiveInBatches(t.socket, batchHandler(t), receiveError);
    }
  }
  if (on > 0 && conn.nominated !== undefined) {
    consent.adopt(conn, routed); // the focus's own consent checks, once werift's loop runs (consentChecks.ts)
  }
  return on;
}

/** Whether the fast path reads `protocol`'s datagrams (its transport's `onData` is the fast one). */
function routed(protocol: { readonly transport?: object }): boolean {
  const t = protocol.transport as UdpTransportLike | undefined;
  return t !== undefined && t.onData !== undefined && wrapped.get(t) === t.onData;
}
