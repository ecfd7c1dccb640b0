/**
 * One sender's send path to its transport, kept from packet to packet: `sendSrtpPacket` (srtpSend.ts) finds the
 * nominated pair, its socket and address, the SRTP cipher, the send slab and the socket's turn queue entry anew
 * for every packet — a dozen property loads through werift's objects and five hash lookups per packet and
 * subscriber (≈ 5 % of the focus's samples at 20 subscribers, bench/README.md "The send path kept"). This
 * keeps what it found and, per packet, only checks that it still holds: the same DTLS transport, connected,
 * with the same SRTP session, ICE connection and nominated pair, the pair's transport open on the same socket,
 * and consent (RFC 7675) not expired. When any of it changed it looks again; what cannot be sent this way
 * (werift's shape, no own cipher, a socket the add-on does not send on, not ready) goes to `sendSrtpPacket`,
 * which decides as before. The datagrams are byte for byte those `sendSrtpPacket` sends, counted alike.
 */
import type { RTCDtlsTransport } from 'werift';
import type { SentPacket } from './sentPackets.js';
import type { SendSlab } from './sendSlab.js';
import type { ConnectionLike, DtlsInternals, PairLike, UdpLike, UdpSocket } from './srtpRoute.js';
import {
  guardSocket,
  resolve,
  sendResolvedPacket,
  srtpTurnQueue,
  type Resolved,
  type SendResult,
} from './srtpSend.js';
import { encryptPacketIntoSlab, RocKeep, srtpSendState, type SrtpSendState } from './srtp/srtpSendState.js';
import type { Entry } from './turnSendQueue.js';

export class SrtpSendPath {
  #d: DtlsInternals | undefined;
  #srtp: object | undefined;
  #conn: ConnectionLike | undefined;
  #pair: PairLike | undefined;
  #transport: UdpLike | undefined;
  #socket: UdpSocket | undefined;
  #own: SrtpSendState | undefined;
  #slab: SendSlab | undefined;
  #entry: Entry | undefined;
  #address = '';
  #port = 0;
  /** The rollover state of the SSRC sent last (one lookup per SSRC and association, not per packet). */
  readonly #roc = new RocKeep();

  /** Sends one packet built in place (not modified) on `dtls`, as `sendSrtpPacket` does. Never throws. */
  send(dtls: RTCDtlsTransport, p: SentPacket): SendResult {
    const d = dtls as unknown as DtlsInternals;
    if (!this.#holds(d)) {
      const r = resolve(dtls);
      if (!this.#bind(r)) {
        return sendResolvedPacket(dtls, r, p);
      }
    }
    const own = this.#own as SrtpSendState;
    const slab = this.#slab as SendSlab;
    const at = encryptPacketIntoSlab(own, slab, p, this.#roc);
    if (at === 'encrypt_failed') {
      return at;
    }
    const len = p.length + own.cipher.rtpOverhead;
    srtpTurnQueue().pushSliceTo(this.#entry as Entry, this.#address, this.#port, slab.buffer, at, len);
    const pair = this.#pair as PairLike;
    d.bytesSent += len;
    d.packetsSent += 1;
    pair.packetsSent += 1;
    pair.bytesSent += len;
    return 'direct';
  }

  /** Whether what was found for `d` still holds (every check `resolve` makes that can change). */
  #holds(d: DtlsInternals): boolean {
    if (d !== this.#d || d.state !== 'connected' || d.srtp !== this.#srtp) {
      return false;
    }
    const conn = d.iceTransport?.connection;
    const transport = this.#transport as UdpLike;
    return (
      conn !== undefined &&
      conn === this.#conn &&
      conn.nominated === this.#pair &&
      transport.closed !== true &&
      transport.socket === this.#socket &&
      conn.canSendApplicationData?.() === true
    );
  }

  /** Keeps the path `resolve` found; false (nothing kept) when this packet must take `sendSrtpPacket`'s way. */
  #bind(r: Resolved | 'werift' | 'not_ready'): boolean {
    this.#d = undefined;
    if (typeof r === 'string') {
      return false;
    }
    const q = srtpTurnQueue();
    const slab = q.slabFor(r.socket);
    const own = slab === undefined ? null : srtpSendState(r.srtp);
    const conn = r.d.iceTransport?.connection;
    if (slab === undefined || own === null || conn === undefined) {
      return false;
    }
    guardSocket(r.socket);
    this.#d = r.d;
    this.#srtp = r.srtp;
    this.#conn = conn;
    this.#pair = r.pair;
    this.#transport = r.pair.protocol?.transport;
    this.#socket = r.socket;
    this.#own = own;
    this.#slab = slab;
    this.#entry = q.entryFor(r.socket);
    this.#address = r.address;
    this.#port = r.port;
    return true;
  }
}
