/**
 * SRTCP with the SFU's own ciphers (srtp/createSrtpCipher.ts: native or TypeScript, one per direction of an
 * association) instead of werift's, which makes new node:crypto cipher objects for every RTCP packet it
 * protects or unprotects (at idle with 20 subscribers that was a fifth of the SFU's CPU: bench/README.md
 * "Idle cost"). Every SRTCP packet of a DTLS transport goes through werift's `dtlsTransport.srtcp` session
 * (werift@0.24.4: `encrypt(raw)` for everything sent — werift's receiver reports and the SFU's own SRs, REMBs,
 * NACKs and PLIs alike — and `decrypt(data)` for everything received), so the tap replaces those two methods
 * on each session, as decryptedRtpTap.ts does for SRTP; `srtcp` is replaced on every SRTP (re)start, so each
 * new session is wrapped as werift assigns it (sessionTap.ts).
 * - encrypt: the SRTCP index is werift's own per-SSRC counter (its context's `getSrtcpSsrcState`), advanced as
 *   werift advances it: the bytes are werift's, and packets protected before the tap and after it never
 *   repeat an index.
 * - decrypt: a packet that is not authentic, or a replay (srtp/srtcpReceiveState.ts: a replay list per sending
 *   SSRC, which werift does not keep), throws werift's SrtpAuthenticationError, which werift drops.
 * - a `sink` given with the tap reads every unprotected compound packet itself (rtp/rtcpRead.ts), and werift
 *   gets an empty packet (which it parses into nothing): werift's parser, objects and event dispatch per RTCP
 *   packet are skipped — nothing of werift's reads RTCP the SFU needs (its receivers no longer report).
 * - `receiveRtcpDirect` unprotects and reads a datagram without werift at all (udpFastPath.ts), for a session
 *   tapped with a sink and the own cipher.
 * A session whose keys cannot be read or whose counters are not werift's shape keeps werift's cipher (the sink
 * still reads what it unprotects; no direct path).
 */
import { Buffer } from 'node:buffer';
import { SrtpAuthenticationError, type RTCDtlsTransport } from 'werift';
import type { SrtpCipher } from './srtp/srtpCipher.js';
import { SrtcpReceiveState } from './srtp/srtcpReceiveState.js';
import { cipherOfContext, type SrtpContextKeys } from './srtp/srtpSendState.js';
import type { SendSlab } from './sendSlab.js';
import { feedSink, wrapEachAssigned } from './sessionTap.js';

/** The largest SRTCP index (31 bits); werift wraps past it to 0. */
const MAX_SRTCP_INDEX = 0x7fffffff;

/** werift's per-SSRC SRTCP state of a context (the counter its own `encryptRTCP` advances). */
interface IndexCounter {
  getSrtcpSsrcState(ssrc: number): { srtcpIndex: number };
}

interface SrtcpLike {
  localContext?: SrtpContextKeys & Partial<IndexCounter>;
  remoteContext?: SrtpContextKeys;
  encrypt?: (raw: Buffer) => Buffer;
  decrypt?: (data: Buffer) => Buffer;
}

/** Reads one unprotected compound RTCP packet. */
export type RtcpSink = (plain: Buffer) => void;

const wrapped = new WeakSet<object>();
/** Per tapped session with the own cipher and a sink: unprotect and read one datagram; false if not authentic. */
const direct = new WeakMap<object, (data: Buffer) => boolean>();
const tapped = new WeakSet<object>();
/** Per tapped session with the own cipher: protect one compound packet without werift (`protectRtcpDirect`). */
const protectOwn = new WeakMap<object, (plain: Uint8Array, slab: SendSlab | undefined) => Buffer>();
const EMPTY = Buffer.alloc(0);

/** The next SRTCP index of `ssrc` on werift's counter, advanced there as werift does (++, past 2^31 − 1 to 0). */
function nextIndex(counter: IndexCounter, ssrc: number): number {
  const state = counter.getSrtcpSsrcState(ssrc);
  const next = state.srtcpIndex + 1;
  state.srtcpIndex = next > MAX_SRTCP_INDEX ? 0 : next;
  return state.srtcpIndex;
}

/**
 * Protects one compound packet (≥ 8 bytes) into `out` (`plain.length + cipher.rtcpOverhead` bytes) with
 * the next index of its sender SSRC on werift's counter — the tapped `encrypt` and `protectRtcpDirect` alike.
 */
function protectInto(cipher: SrtpCipher, counter: IndexCounter, plain: Uint8Array, out: Uint8Array): void {
  const ssrc =
    (((plain[4] as number) << 24) |
      ((plain[5] as number) << 16) |
      ((plain[6] as number) << 8) |
      (plain[7] as number)) >>>
    0;
  cipher.encryptRtcp(plain, 0, plain.length, nextIndex(counter, ssrc), out, 0);
}

function ownEncrypt(
  cipher: SrtpCipher,
  counter: IndexCounter,
  werift: (raw: Buffer) => Buffer,
): (raw: Buffer) => Buffer {
  return (raw: Buffer): Buffer => {
    if (raw.length < 8) {
      return werift(raw); // not RTCP: werift's error, as before
    }
    const out = Buffer.allocUnsafe(raw.length + cipher.rtcpOverhead);
    protectInto(cipher, counter, raw, out);
    return out;
  };
}

function ownDecrypt(state: SrtcpReceiveState): (data: Buffer) => Buffer {
  return (data: Buffer): Buffer => {
    const out = state.unprotect(data);
    if (out === undefined) {
      throw new SrtpAuthenticationError('SRTCP packet not authentic, replayed or malformed');
    }
    return out;
  };
}

function isCounter<T extends Partial<IndexCounter>>(c: T | undefined): c is T & IndexCounter {
  return typeof c?.getSrtcpSsrcState === 'function';
}

/** The decrypt werift calls: `unprotect`, then the sink (if any) reads it and werift gets nothing. */
function withSink(unprotect: (data: Buffer) => Buffer, sink: RtcpSink | undefined): (data: Buffer) => Buffer {
  if (sink === undefined) {
    return unprotect;
  }
  return (data: Buffer): Buffer => {
    feedSink(sink, unprotect(data)); // not authentic: throws to werift, which drops it
    return EMPTY;
  };
}

/** Replaces one session's encrypt/decrypt with the own ciphers where its keys and counters can be read. */
function wrap(session: unknown, sink: RtcpSink | undefined): void {
  if (typeof session !== 'object' || session === null || wrapped.has(session)) {
    return;
  }
  wrapped.add(session);
  const s = session as SrtcpLike;
  const local = s.localContext;
  if (typeof s.encrypt === 'function' && isCounter(local)) {
    const cipher = cipherOfContext(local);
    if (cipher !== null) {
      s.encrypt = ownEncrypt(cipher, local, s.encrypt.bind(s));
      protectOwn.set(session, (plain, slab) => {
        const n = plain.length + cipher.rtcpOverhead;
        const out = slab?.take(n) ?? Buffer.allocUnsafe(n);
        protectInto(cipher, local, plain, out);
        return out;
      });
    }
  }
  if (typeof s.decrypt === 'function') {
    const cipher = cipherOfContext(s.remoteContext);
    const state = cipher === null ? null : new SrtcpReceiveState(cipher);
    s.decrypt = withSink(state === null ? s.decrypt.bind(s) : ownDecrypt(state), sink);
    if (state !== null && sink !== undefined) {
      direct.set(session, (data: Buffer): boolean => {
        const plain = state.unprotect(data);
        if (plain === undefined) {
          return false;
        }
        feedSink(sink, plain);
        return true;
      });
    }
  }
}

/**
 * One SRTCP datagram for `dtls`, unprotected and read without werift: true when read, false when not authentic
 * (dropped), undefined when its current session has no direct path (werift's path must take it).
 */
export function receiveRtcpDirect(dtls: object, data: Buffer): boolean | undefined {
  const session = (dtls as { srtcp?: object }).srtcp;
  const f = session === undefined ? undefined : direct.get(session);
  return f === undefined ? undefined : f(data);
}

/**
 * One compound RTCP packet (≥ 8 bytes, not modified) SRTCP-protected for `dtls` without werift, on werift's own
 * index counter (as the tapped `encrypt`): in `slab`'s memory when given (valid until the slab is reset), else a
 * new buffer. Undefined when the transport's current session is not tapped with the own cipher (or the packet
 * is too short): werift's `sendRtcp` must take it.
 */
export function protectRtcpDirect(dtls: object, plain: Uint8Array, slab?: SendSlab): Buffer | undefined {
  const session = (dtls as { srtcp?: object }).srtcp;
  const f = session === undefined || plain.length < 8 ? undefined : protectOwn.get(session);
  return f === undefined ? undefined : f(plain, slab);
}

/**
 * Protects and unprotects this transport's SRTCP with the own ciphers from now on, every compound packet
 * received going to `sink` first (once per transport; later calls are no-ops). False where werift's shape is
 * not this one: werift's SRTCP goes on and nothing reaches the sink.
 */
export function tapSrtcp(dtls: RTCDtlsTransport, sink?: RtcpSink): boolean {
  return wrapEachAssigned(dtls, 'srtcp', tapped, (session) => {
    wrap(session, sink);
  });
}
