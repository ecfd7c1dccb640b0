/**
 * Where werift hands decrypted RTP up: each DTLS transport decrypts an incoming SRTP datagram with
 * `dtlsTransport.srtp.decrypt(data)` and only then builds werift's RtpPacket for its router and receivers
 * (werift@0.24.4: RTCDtlsTransport.startSrtp). The tap wraps that `decrypt` so the plaintext bytes go to the
 * SFU's ingest (synchronously), and then ends werift's handling of the packet: the wrapped `decrypt` throws
 * one shared SrtpAuthenticationError (`WERIFT_SKIPPED`), which werift catches and drops the packet on (a
 * disabled debug log, no stack captured per packet). werift's own receive work — its RtpPacket and a clone of
 * it per packet, its router, receiver statistics and receiver-report timers — did nothing the SFU used but
 * those reports, which the SFU now writes itself (publisherRtcp.ts; a link's: link/trunkCcReceive.ts).
 * `srtp` is replaced on every SRTP (re)start, so the tap wraps each new session as werift assigns it
 * (sessionTap.ts: after werift's `updateSrtpSession`; the transport object itself stays as werift made it).
 * The decryption itself is the SFU's own (srtp/srtpReceiveState.ts: native or TypeScript, one cipher per
 * association; werift's when the session's keys cannot be read); a packet that is not authentic
 * throws werift's SrtpAuthenticationError before reaching the sink, as werift's own decryption does. Returns
 * false where werift's shape is not this one. `receiveRtpDirect` does the same for a datagram werift never saw
 * (udpFastPath.ts).
 */
import { SrtpAuthenticationError, type RTCDtlsTransport } from 'werift';
import { srtpReceiveState } from './srtp/srtpReceiveState.js';
import { feedSink, wrapEachAssigned } from './sessionTap.js';

interface SrtpLike {
  decrypt: (data: Buffer) => Buffer;
}

/** What the tapped `decrypt` throws after the sink took the packet: werift drops it, its work skipped. */
export const WERIFT_SKIPPED = new SrtpAuthenticationError('handled by the SFU (decryptedRtpTap.ts)');

const wrapped = new WeakSet<object>();
const tapped = new WeakSet<object>();
/** Per tapped session with the own decryption: decrypt and ingest one datagram; false if not authentic. */
const direct = new WeakMap<object, (data: Buffer) => boolean>();

/** Before decryption: whether a datagram may be dropped unread (`overhead`: the SRTP tag's bytes). */
export type RtpSkip = (data: Buffer, overhead: number) => boolean;

function wrap(session: unknown, sink: (dec: Buffer) => void, skip: RtpSkip | undefined): void {
  if (typeof session !== 'object' || session === null || wrapped.has(session)) {
    return;
  }
  const s = session as Partial<SrtpLike>;
  if (typeof s.decrypt !== 'function') {
    return;
  }
  wrapped.add(session);
  const own = srtpReceiveState(session);
  const overhead = own?.cipher.rtpOverhead ?? 0;
  if (own !== null) {
    direct.set(session, (data: Buffer): boolean => {
      if (skip?.(data, overhead) === true) {
        return true;
      }
      const dec = own.decrypt(data);
      if (dec === undefined) {
        return false;
      }
      feedSink(sink, dec);
      return true;
    });
  }
  const decrypt =
    own === null
      ? s.decrypt.bind(s)
      : (data: Buffer): Buffer => {
          const dec = own.decrypt(data);
          if (dec === undefined) {
            throw new SrtpAuthenticationError('SRTP packet not authentic, replayed or malformed');
          }
          return dec;
        };
  s.decrypt = (data: Buffer): Buffer => {
    if (own === null || skip?.(data, overhead) !== true) {
      feedSink(sink, decrypt(data)); // an authentication failure throws to werift, which drops the packet
    }
    throw WERIFT_SKIPPED;
  };
}

/**
 * One SRTP datagram for `dtls`, decrypted and ingested without werift: true when ingested, false when not
 * authentic (dropped), undefined when its current session has no direct path (werift's path must take it).
 */
export function receiveRtpDirect(dtls: object, data: Buffer): boolean | undefined {
  const session = (dtls as { srtp?: object }).srtp;
  const f = session === undefined ? undefined : direct.get(session);
  return f === undefined ? undefined : f(data);
}

/**
 * Feeds every RTP packet this transport decrypts to `sink` (once per transport; later calls are no-ops). With
 * `skip`, a datagram it accepts is not decrypted at all (own decryption only: the ingest's unwatched layers).
 */
export function tapDecryptedRtp(
  dtls: RTCDtlsTransport,
  sink: (dec: Buffer) => void,
  skip?: RtpSkip,
): boolean {
  return wrapEachAssigned(dtls, 'srtp', tapped, (session) => {
    wrap(session, sink, skip);
  });
}
