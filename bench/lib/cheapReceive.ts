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
 * With the native add-on the sockets are also read in batches (loadSockets.ts), which gives each datagram the
 * time it waited in its socket: `waitedUs`, so a latency can be read at the socket — when the datagram arrived —
 * as well as when this process got to it (a load process busy or in a GC pause delays the second, not the first).
 */
import type { RtpHeader } from 'werift';
import { rtpHeaderLength, srtpReceiveState } from '../../src/media/srtp/srtpReceiveState.js';
import { sendSrtp } from '../../src/media/srtpSend.js';
import { receiveWaits } from '../../src/media/udpReceive.js';
import { isRtpDatagram, udpTransportsOf, wrapTransport, type OnData, type Take } from './loadSockets.js';

/** One received RTP packet; `payload` is a view of the socket's buffer, valid during the callback only. */
export interface CheapRtp {
  ssrc: number;
  seq: number;
  kind: 'audio' | 'video';
  payload: Buffer;
  /** How long the datagram waited in its socket before this process read it (µs); -1 when not known. */
  waitedUs: number;
}

interface DtlsLike {
  readonly srtp?: unknown;
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
    // RTP taken here; the rest is werift's (true: its handling goes on in promises).
    const makeTake =
      (werift: OnData): Take =>
      (data, addr) => {
        if (isRtpDatagram(data)) {
          takeRtp(d, data, kinds, stats, cb);
          return false;
        }
        werift(data, addr);
        return true;
      };
    for (const t of udpTransportsOf(d)) {
      // Without the add-on node:dgram goes on reading the socket into the wrapper.
      if (wrapTransport(t, wrapped, makeTake, receiveError, false)) {
        on++;
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
