/**
 * What the send path (srtpSend.ts) reads of werift's DTLS transport, ICE pair and UDP socket, and the route a
 * prepared datagram goes on: the nominated pair's socket and remote address, and the statistics a send adds to.
 */
import type { SrtpSessionKeys } from './srtp/srtpSendState.js';

/** What werift's SRTP reads of a header: `ssrc`, `sequenceNumber`, `serializeSize`, `serialize()`. */
export interface SrtpHeader {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly serializeSize: number;
  serialize(size: number): Buffer;
}

/** The part of werift's UDP socket (a node:dgram socket) used here. */
export interface UdpSocket {
  send: (msg: Buffer, port: number, address: string) => void;
  on: (event: 'error', cb: (e: Error) => void) => unknown;
}

export interface UdpLike {
  readonly type?: string;
  readonly closed?: boolean;
  readonly socket?: UdpSocket;
}

export interface PairLike {
  /** werift's getter: a new array per call (read only when the candidate is not there). */
  readonly remoteAddr?: readonly [string, number];
  /** The remote candidate, fixed for the pair: its address read without an allocation. */
  readonly remoteCandidate?: { readonly host?: unknown; readonly port?: unknown };
  readonly protocol?: { readonly transport?: UdpLike };
  packetsSent: number;
  bytesSent: number;
}

export interface ConnectionLike {
  readonly nominated?: PairLike;
  canSendApplicationData?: () => boolean;
}

export interface DtlsInternals {
  readonly state: string;
  readonly srtp?: SrtpSessionKeys & { encrypt: (payload: Buffer, header: SrtpHeader) => Buffer };
  readonly iceTransport?: { readonly connection?: ConnectionLike };
  bytesSent: number;
  packetsSent: number;
}

/**
 * Where the datagram `prepareSrtp` made goes — the nominated pair's socket and remote address — and the
 * statistics a send adds to (the DTLS transport's and the pair's). Filled by `prepareSrtp`; one per caller,
 * reused packet after packet.
 */
export class SrtpRoute {
  socket: UdpSocket | undefined;
  address = '';
  port = 0;
  /** The length of the datagram `prepareSrtpAt` wrote last. */
  length = 0;
  #dtls: DtlsInternals | undefined;
  #pair: PairLike | undefined;

  /** Fills the route (prepareSrtp). */
  set(socket: UdpSocket, address: string, port: number, dtls: DtlsInternals, pair: PairLike): void {
    this.socket = socket;
    this.address = address;
    this.port = port;
    this.#dtls = dtls;
    this.#pair = pair;
  }

  /** `packets` datagrams of `bytes` in all left on this route. */
  sent(packets: number, bytes: number): void {
    const d = this.#dtls;
    const pair = this.#pair;
    if (d !== undefined && pair !== undefined) {
      d.bytesSent += bytes;
      d.packetsSent += packets;
      pair.packetsSent += packets;
      pair.bytesSent += bytes;
    }
  }
}
