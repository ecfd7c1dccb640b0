/**
 * The SFU's own SRTCP unprotection for one DTLS-SRTP association's receiving direction (srtcpTap.ts): the
 * association's cipher and a replay list per sending SSRC (RFC 3711 §3.3.2, replayWindow.ts) over the packets'
 * SRTCP indexes. A packet whose index was already accepted, or is older than the window, is dropped before
 * it is decrypted; an index is marked only once its packet authenticated. (werift keeps no replay list: a
 * recorded NACK, PLI or REMB could be played back at the SFU as often as an attacker liked.) SRTCP indexes are
 * 31 bits and a sender wraps to 0 after 2^31 − 1: at one packet every 10 ms that is eight months of one
 * stream, and a stream that wrapped is refused until it is forgotten (re-keying is the remedy RFC 3711 names).
 */
import { ReplayWindow } from './replayWindow.js';
import type { SrtpCipher } from './srtpCipher.js';
import { srtcpIndex } from './srtpIndex.js';
import { SsrcTable } from './ssrcTable.js';

export class SrtcpReceiveState {
  readonly cipher: SrtpCipher;
  /** Packets dropped as replays. */
  replayed = 0;
  readonly #windows = new SsrcTable(() => new ReplayWindow());

  constructor(cipher: SrtpCipher) {
    this.cipher = cipher;
  }

  /**
   * The plaintext of one SRTCP datagram, decrypted in place (a view of `data`'s first bytes: the socket's own
   * datagram, read once), or undefined when it is malformed, a replay (left undecrypted) or not authentic.
   */
  unprotect(data: Buffer): Buffer | undefined {
    const cipher = this.cipher;
    if (data.length < 8 + cipher.rtcpOverhead) {
      return undefined;
    }
    const index = srtcpIndex(cipher.profile, data, 0, data.length);
    if (index < 0) {
      return undefined;
    }
    const ssrc = data.readUInt32BE(4);
    const w = this.#windows.get(ssrc);
    if (w !== undefined && !w.fresh(index)) {
      this.replayed++;
      return undefined;
    }
    const n = cipher.decryptRtcp(data, 0, data.length, data, 0);
    if (n < 0) {
      return undefined;
    }
    (w ?? this.#windows.getOrCreate(ssrc)).accept(index);
    return data.subarray(0, n);
  }
}
