/**
 * A load participant's cheap receive (and send) path, so a meeting's whole load fits on one core beside a pinned SFU
 * (issue 16's one-core `meeting`). werift's receive path costs tens of µs a packet — a STUN parse attempt, two
 * event dispatches that each start an async function, a new cipher per packet, its RtpPacket and a clone of it,
 * its receiver statistics — which is more than the SFU spends forwarding the packet. This path wraps the
 * `onData` of each UDP transport under the peer's DTLS transports (werift@0.24.4: `iceTransport.connection
 * .protocols[i].transport`, as the SFU's src/media/udpFastPath.ts does) and takes the RTP datagrams itself:
 * decrypted in place with one cipher per association (the SFU's own SRTP, src/media/srtp: the native add-on
 * or its byte-identical TypeScript fallback; its replay list refuses a second copy of a packet), the header read
 * for SSRC, sequence number and payload type, the payload handed on as a view. Everything else — RTCP, STUN,
 * DTLS — goes on to werift. Every packet is still decrypted: the bench's loss and latency read the send time
 * the synthetic publisher wrote into each payload.
 *
 * What werift then does not do for this peer: receiver reports and NACKs for the media (the SFU's estimate of
 * this subscriber stays "unknown", which caps nothing; a lost packet stays lost and counts as loss).
 *
 * With the native add-on the sockets are also read in batches (the SFU's src/media/udpReceive.ts, every socket
 * on its readable events: no quiet tick here), which gives each datagram the time it waited in its socket
 * (the kernel's receive timestamp, SO_TIMESTAMPNS): `waitedUs`, so a latency can be read at the socket — when
 * the datagram arrived — as well as when this process got to it (a load process busy or in a GC pause delays
 * the second, not the first).
 */
import type { RtpHeader } from 'werift';
import { rtpHeaderLength, srtpReceiveState } from '../../src/media/srtp/srtpReceiveState.js';
import { sendSrtp } from '../../src/media/srtpSend.js';
import { QUIET_TICK_MS, QuietSockets } from '../../src/media/quietSockets.js';
import { receiveInBatches, receiveWaits, type ReceiveSocket } from '../../src/media/udpReceive.js';
import { systemClock } from '../../src/util/clock.js';
import { Ticker } from '../../src/util/ticker.js';

/** One received RTP packet; `payload` is a view of the socket's buffer, valid during the callback only. */
export interface CheapRtp {
  ssrc: number;
  seq: number;
  kind: 'audio' | 'video';
  payload: Buffer;
  /** How long the datagram waited in its socket before this process read it (µs); -1 when not known. */
  waitedUs: number;
}

type OnData = (data: Buffer, addr: readonly [string, number]) => void;

interface UdpTransportLike {
  readonly type?: string;
  onData?: OnData;
  rinfo?: unknown;
  readonly socket?: ReceiveSocket;
}

/** The load reads every socket on its events (a datagram never waits for a quiet tick). */
const noQuietSockets = new QuietSockets(Ticker.shared(systemClock, QUIET_TICK_MS), 0, false, () => undefined);

interface DtlsLike {
  readonly srtp?: unknown;
  readonly iceTransport?: {
    readonly connection?: { readonly protocols?: readonly { type?: string; transport?: UdpTransportLike }[] };
  };
}

/** The counts of what the path dropped. */
export interface CheapReceiveStats {
  /** Not authentic, malformed, or a replay (a retransmitted copy of a packet already received). */
  refused: number;
  /** A payload type the peer did not negotiate. */
  unknownPayloadType: number;
}

const wrapped = new WeakMap<object, OnData>();

function takeRtp(
  dtls: DtlsLike,
  data: Buffer,
  kinds: ReadonlyMap<number, 'audio' | 'video'>,
  stats: CheapReceiveStats,
  cb: (r: CheapRtp) => void,
): void {
  const session = dtls.srtp;
  const state = typeof session === 'object' && session !== null ? srtpReceiveState(session) : null;
  const dec = state?.decrypt(data);
  if (dec === undefined) {
    stats.refused++;
    return;
  }
  const kind = kinds.get((dec[1] as number) & 0x7f);
  if (kind === undefined) {
    stats.unknownPayloadType++;
    return;
  }
  const headerLength = rtpHeaderLength(dec);
  const padding = ((dec[0] as number) & 0x20) !== 0 ? (dec[dec.length - 1] as number) : 0;
  cb({
    ssrc: dec.readUInt32BE(8),
    seq: dec.readUInt16BE(2),
    kind,
    payload: dec.subarray(headerLength, Math.max(headerLength, dec.length - padding)),
    waitedUs: receiveWaits.current,
  });
}

type Take = (data: Buffer, addr: readonly [string, number]) => boolean;

/**
 * The batch reader's handler for `t`: werift's `onData` reads the sender from `rinfo` (node:dgram set it before
 * each datagram); true (the rest of the batch after the microtasks) when werift got the datagram — also when
 * werift replaced the wrapped `onData` since.
 */
function batchHandler(t: UdpTransportLike, fast: OnData, take: Take): Take {
  let last: readonly [string, number] | undefined;
  return (data, addr) => {
    if (addr !== last) {
      last = addr;
      t.rinfo = { address: addr[0], port: addr[1], family: addr[0].includes(':') ? 'IPv6' : 'IPv4' };
    }
    const onData = t.onData;
    if (onData === fast) {
      return take(data, addr);
    }
    onData?.(data, addr);
    return onData !== undefined;
  };
}

/**
 * Puts the UDP transports of `dtlsTransports` on the cheap path (idempotent: those already on it are left
 * alone); returns how many are on it, 0 until the ICE connection and the SRTP session exist (call again).
 */
export function installCheapReceive(
  dtlsTransports: readonly object[],
  kinds: ReadonlyMap<number, 'audio' | 'video'>,
  stats: CheapReceiveStats,
  cb: (r: CheapRtp) => void,
  receiveError: (e: unknown) => void = () => undefined,
): number {
  let on = 0;
  for (const d of dtlsTransports as readonly DtlsLike[]) {
    if (d.srtp === undefined) {
      continue;
    }
    for (const p of d.iceTransport?.connection?.protocols ?? []) {
      const t = p.transport;
      const werift = t?.onData;
      if (p.type !== 'stun' || t === undefined || t.type !== 'udp' || typeof werift !== 'function') {
        continue;
      }
      if (wrapped.get(t) === werift) {
        on++;
        continue;
      }
      // True when werift got the datagram (its handling goes on in promises).
      const take: Take = (data, addr) => {
        const b0 = data[0];
        const pt = data[1];
        // RTP (first byte 128–191) that is not RTCP (packet types 192–223); the rest is werift's.
        if (b0 !== undefined && b0 >= 128 && b0 <= 191 && pt !== undefined && (pt < 192 || pt > 223)) {
          takeRtp(d, data, kinds, stats, cb);
          return false;
        }
        werift(data, addr);
        return true;
      };
      const fast: OnData = (data, addr) => {
        take(data, addr);
      };
      wrapped.set(t, fast);
      t.onData = fast;
      on++;
      if (t.socket !== undefined && typeof t.socket.once === 'function') {
        receiveInBatches(t.socket, batchHandler(t, fast, take), receiveError, undefined, noQuietSockets);
      }
    }
  }
  return on;
}

/**
 * The cheap load's publishing side (for `WeriftPeer.startSyntheticSimulcast`): the packet encrypted with one
 * cipher per association and sent on the nominated pair's socket, a turn's datagrams in one `sendmmsg` — the
 * SFU's own send path (src/media/srtpSend.ts), where werift's `sendRtp` makes a cipher and several buffers per
 * packet and sends each through promises (its garbage was most of the load processes' GC pauses).
 */
export function sendCheaply(dtls: object, payload: Buffer, header: RtpHeader): void {
  sendSrtp(dtls as Parameters<typeof sendSrtp>[0], payload, header);
}
