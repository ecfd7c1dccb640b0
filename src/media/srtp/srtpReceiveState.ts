/**
 * The SFU's own SRTP decryption for one DTLS-SRTP association's receiving direction (performance-design.md §1
 * steps 1 and 3): a cipher (native add-on or the byte-identical TypeScript one) made once from the association's
 * remote master key and salt, and the rollover counter per SSRC estimated from each packet's sequence number
 * (RFC 3711 §3.3.1, srtpIndex.ts) and committed only once the packet is authentic — werift builds new cipher
 * objects per packet instead. A packet whose index was already accepted, or is older than the replay window, is
 * dropped before decryption (RFC 3711 §3.3.2, replayWindow.ts; werift keeps no replay list). One state per
 * werift SRTP session object, in a WeakMap.
 */
import { ReplayWindow } from './replayWindow.js';
import type { SrtpCipher } from './srtpCipher.js';
import { SsrcTable } from './ssrcTable.js';
import { RocTracker, srtpPacketIndex } from './srtpIndex.js';
import { cipherOfContext, type SrtpSessionKeys } from './srtpSendState.js';

/** The RTP header length of `data` (CSRCs and extension included), or -1 when it does not fit in `data`. */
export function rtpHeaderLength(data: Uint8Array): number {
  if (data.length < 12) {
    return -1;
  }
  const first = data[0] as number;
  let len = 12 + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0) {
    if (data.length < len + 4) {
      return -1;
    }
    len += 4 + 4 * (((data[len + 2] as number) << 8) | (data[len + 3] as number));
  }
  return len <= data.length ? len : -1;
}

/** One received SSRC: its rollover counter and its replay list. */
class ReceivedSsrc extends RocTracker {
  readonly replay = new ReplayWindow();
}

export class SrtpReceiveState {
  readonly cipher: SrtpCipher;
  /** Packets dropped as replays (an index already accepted, or older than the window). */
  replayed = 0;
  readonly #rocs = new SsrcTable(() => new ReceivedSsrc());

  constructor(cipher: SrtpCipher) {
    this.cipher = cipher;
  }

  /**
   * The RTP packet inside one SRTP datagram, decrypted in place: the result is a view of `data`'s first bytes
   * (header, then plaintext payload; the datagram is the socket's own, read once, so nothing else sees its
   * ciphertext afterwards), or undefined when it is malformed, a replay (left undecrypted) or not authentic
   * (nothing is recorded then; the datagram may then hold garbage and must be dropped, as every caller does). No buffer is allocated: a copy
   * per packet was a slice of node's 8-KiB pool, a new pool every few packets for the GC to sweep.
   */
  decrypt(data: Buffer): Buffer | undefined {
    const headerLength = rtpHeaderLength(data);
    const overhead = this.cipher.rtpOverhead;
    if (headerLength < 0 || data.length < headerLength + overhead) {
      return undefined;
    }
    const ssrc = data.readUInt32BE(8);
    const seq = data.readUInt16BE(2);
    const r = this.#rocs.get(ssrc);
    const roc = r === undefined ? 0 : r.guess(seq);
    const index = srtpPacketIndex(roc, seq);
    if (r !== undefined && !r.replay.fresh(index)) {
      this.replayed++;
      return undefined;
    }
    const n = this.cipher.decryptRtp(data, 0, data.length, headerLength, roc, data, 0);
    if (n < 0) {
      return undefined;
    }
    const known = r ?? this.#rocs.getOrCreate(ssrc);
    known.commit(seq, roc);
    known.replay.accept(index);
    return data.subarray(0, n);
  }
}

const states = new WeakMap<object, SrtpReceiveState | null>();

/** The receive state of a werift SRTP session (from its remote context), or null: werift decrypts then. */
export function srtpReceiveState(session: SrtpSessionKeys): SrtpReceiveState | null {
  let s = states.get(session);
  if (s === undefined) {
    const cipher = cipherOfContext(session.remoteContext);
    s = cipher === null ? null : new SrtpReceiveState(cipher);
    states.set(session, s);
  }
  return s;
}
