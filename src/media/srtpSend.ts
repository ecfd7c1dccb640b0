/**
 * The SFU's send path for forwarded RTP: encrypt with the transport's SRTP context and hand the datagram to
 * the nominated ICE pair's UDP socket in the same call. werift's `dtlsTransport.sendRtp` does the same work
 * through four nested async functions (DTLS transport → ICE connection → STUN protocol → UDP transport), i.e.
 * four promises per packet, which at fan-out is one of the larger costs per forwarded packet (bench/README.md).
 *
 * Encryption is the SFU's own (srtp/srtpSendState.ts: one native or TypeScript cipher per association, made from
 * werift's negotiated master key; werift's `SrtpSession.encrypt` when the keys cannot be read). Same rules as
 * werift's path: nothing is sent before DTLS is connected, without a nominated pair, or after
 * ICE consent expired (RFC 7675); statistics are kept on the same fields. Where the transport is not the
 * shape this relies on (a TCP/TURN pair, or a werift whose internals moved), it falls back to werift's
 * `sendRtp`, so a werift upgrade degrades speed, not behaviour (test/unit/media/srtpSend.test.ts pins both).
 */
import { Buffer } from 'node:buffer';
import type { RTCDtlsTransport, RtpHeader } from 'werift';
import type { SentPacket } from './sentPackets.js';
import type { SendSlab, SlabSource } from './sendSlab.js';
import { protectRtcpDirect } from './srtcpTap.js';
import { encryptPacketIntoSlab, srtpSendState, type SrtpSendState } from './srtp/srtpSendState.js';
import {
  SrtpRoute,
  type DtlsInternals,
  type PairLike,
  type SrtpHeader,
  type UdpSocket,
} from './srtpRoute.js';
import { TurnSendQueue } from './turnSendQueue.js';

export { SrtpRoute, type SrtpHeader, type UdpSocket } from './srtpRoute.js';

/** Sockets given an 'error' listener: a send error without a callback is emitted there, and werift adds none. */
const guarded = new WeakSet<object>();
let sendErrors = 0;

/** Send errors the UDP sockets reported since start (they would otherwise be an uncaught 'error' event). */
export function srtpSendErrors(): number {
  return sendErrors;
}

function onSocketError(): void {
  sendErrors++;
}

/** How a packet left: `direct` (socket.send here), `werift` (fallback), or not at all. */
export const SEND_RESULTS = ['direct', 'werift', 'not_ready', 'encrypt_failed'] as const;
export type SendResult = (typeof SEND_RESULTS)[number];

/** What `resolve` found of a transport ready to send on. */
export interface Resolved {
  d: DtlsInternals;
  srtp: NonNullable<DtlsInternals['srtp']>;
  socket: UdpSocket;
  address: string;
  port: number;
  pair: PairLike;
}

/** The one `Resolved` every call fills once made (no object per packet; read before the next call). */
let resolved: Resolved | undefined;

/**
 * The transport's parts when it can be sent on here (the shared `resolved`, valid until the next call); else
 * whether it must go through werift's own path (`werift`: a TCP/TURN pair, or werift internals this does not
 * know) or cannot send now (`not_ready`).
 */
export function resolve(dtls: RTCDtlsTransport): Resolved | 'werift' | 'not_ready' {
  const d = dtls as unknown as DtlsInternals;
  if (d.state !== 'connected') {
    return 'not_ready';
  }
  const srtp = d.srtp;
  const conn = d.iceTransport?.connection;
  const pair = conn?.nominated;
  const transport = pair?.protocol?.transport;
  const socket = transport?.socket;
  const candidate = pair?.remoteCandidate;
  let address: unknown = candidate?.host;
  let port: unknown = candidate?.port;
  if (pair !== undefined && (typeof address !== 'string' || typeof port !== 'number')) {
    const addr = pair.remoteAddr; // werift without the candidate field: its getter
    address = addr?.[0];
    port = addr?.[1];
  }
  if (
    srtp === undefined ||
    conn === undefined ||
    pair === undefined ||
    transport?.type !== 'udp' ||
    socket === undefined ||
    typeof address !== 'string' ||
    typeof port !== 'number' ||
    typeof conn.canSendApplicationData !== 'function'
  ) {
    return 'werift';
  }
  if (transport.closed === true || !conn.canSendApplicationData()) {
    return 'not_ready';
  }
  if (resolved === undefined) {
    resolved = { d, srtp, socket, address, port, pair };
    return resolved;
  }
  resolved.d = d;
  resolved.srtp = srtp;
  resolved.socket = socket;
  resolved.address = address;
  resolved.port = port;
  resolved.pair = pair;
  return resolved;
}

/** Gives `socket` the 'error' listener that counts its send errors (once per socket). */
export function guardSocket(socket: UdpSocket): void {
  if (!guarded.has(socket)) {
    guarded.add(socket);
    socket.on('error', onSocketError);
  }
}

/** Fills `route` for an encrypted datagram about to be sent on `r` (guarding its socket's errors). */
function routeTo(r: Resolved, route: SrtpRoute): void {
  guardSocket(r.socket);
  route.set(r.socket, r.address, r.port, r.d, r.pair);
}

/**
 * Encrypts one RTP packet for the transport's nominated UDP pair (`payload` is not modified): the datagram,
 * with `route` filled to send it on; or, when it is not to be sent here, why (`werift`: sent by werift's own
 * path already; `not_ready`, `encrypt_failed`: not sent). `slabs` gives the datagram's memory for a socket
 * the caller sends on before the slab is reset (sendSlab.ts; else a new buffer). Never throws.
 */
export function prepareSrtp(
  dtls: RTCDtlsTransport,
  payload: Buffer,
  header: SrtpHeader,
  route: SrtpRoute,
  slabs?: SlabSource,
): Buffer | Exclude<SendResult, 'direct'> {
  const r = resolveOrSend(dtls, payload, header);
  return typeof r === 'string' ? r : encryptResolved(r, payload, header, route, slabs);
}

/**
 * `prepareSrtp` into `slabs`' slab without a view object where it can: the datagram's offset in that slab's
 * `buffer`, its length in `route.length`. Where this transport has no own cipher or no slab for its socket
 * (werift's shape, a socket the add-on cannot send on), what `prepareSrtp` returns (a datagram of its own, or
 * why not) — the transport resolved once either way. `slabs` is the slab the caller sends from before
 * resetting it. Never throws.
 */
export function prepareSrtpAt(
  dtls: RTCDtlsTransport,
  payload: Buffer,
  header: SrtpHeader,
  route: SrtpRoute,
  slabs: SlabSource,
): number | Buffer | Exclude<SendResult, 'direct'> {
  const r = resolveOrSend(dtls, payload, header);
  if (typeof r === 'string') {
    return r;
  }
  const slab = slabs.slabFor(r.socket);
  const own = slab === undefined ? null : srtpSendState(r.srtp);
  if (slab === undefined || own === null) {
    return encryptResolved(r, payload, header, route, slabs);
  }
  routeTo(r, route);
  return encryptIntoSlab(own, slab, payload, header, route);
}

/** Where `prepareSrtpAt`'s datagrams go for one transport: its own cipher and the slab (`slabPathFor`). */
export interface SlabPath {
  own: SrtpSendState;
  slab: SendSlab;
}

const slabPath: SlabPath = {
  own: undefined as unknown as SrtpSendState,
  slab: undefined as unknown as SendSlab,
};

/**
 * For several packets to `dtls` in one synchronous run (a trunk's flush): the transport resolved once — its own
 * cipher and `slabs`' slab (the shared `SlabPath`, valid until the next call), `route` filled — so each packet
 * is `encryptIntoSlab`, as `prepareSrtpAt` would make it; undefined when `prepareSrtpAt` must decide per packet
 * (not ready, werift's shape, no own cipher or no slab for the socket).
 */
export function slabPathFor(
  dtls: RTCDtlsTransport,
  route: SrtpRoute,
  slabs: SlabSource,
): SlabPath | undefined {
  const r = resolve(dtls);
  if (typeof r === 'string') {
    return undefined;
  }
  const slab = slabs.slabFor(r.socket);
  const own = slab === undefined ? null : srtpSendState(r.srtp);
  if (slab === undefined || own === null) {
    return undefined;
  }
  routeTo(r, route);
  slabPath.own = own;
  slabPath.slab = slab;
  return slabPath;
}

/** One packet into `slab` with `own`: its offset there (`route.length` its length), or 'encrypt_failed'. */
export function encryptIntoSlab(
  own: SrtpSendState,
  slab: SendSlab,
  payload: Buffer,
  header: SrtpHeader,
  route: SrtpRoute,
): number | 'encrypt_failed' {
  let at: number;
  const size = header.serializeSize;
  try {
    at = own.encryptAt(header.serialize(size), payload, header.ssrc, header.sequenceNumber, slab);
  } catch {
    return 'encrypt_failed';
  }
  route.length = size + payload.length + own.cipher.rtpOverhead;
  return at;
}

/** The transport's pair to send on; or, handed to werift's own path (`werift`) or not connected, why not. */
function resolveOrSend(
  dtls: RTCDtlsTransport,
  payload: Buffer,
  header: SrtpHeader,
): Resolved | 'werift' | 'not_ready' {
  const r = resolve(dtls);
  if (r === 'werift') {
    void dtls.sendRtp(payload, header as unknown as RtpHeader).catch(() => undefined);
  }
  return r;
}

/** `prepareSrtp`'s encryption once the pair is known: a datagram (`route` filled), or 'encrypt_failed'. */
function encryptResolved(
  r: Resolved,
  payload: Buffer,
  header: SrtpHeader,
  route: SrtpRoute,
  slabs: SlabSource | undefined,
): Buffer | 'encrypt_failed' {
  let enc: Buffer;
  try {
    const own = srtpSendState(r.srtp);
    enc =
      own === null
        ? r.srtp.encrypt(payload, header)
        : own.encrypt(
            header.serialize(header.serializeSize),
            payload,
            header.ssrc,
            header.sequenceNumber,
            slabs?.slabFor(r.socket),
          );
  } catch {
    return 'encrypt_failed';
  }
  routeTo(r, route);
  return enc;
}

/** A header given as its bytes, in the shape werift's SRTP reads (for werift's own paths only). */
class HeaderBytes implements SrtpHeader {
  readonly ssrc: number;
  readonly sequenceNumber: number;
  readonly #bytes: Buffer;

  constructor(bytes: Buffer) {
    this.#bytes = bytes;
    this.ssrc = bytes.readUInt32BE(8);
    this.sequenceNumber = bytes.readUInt16BE(2);
  }

  get serializeSize(): number {
    return this.#bytes.length;
  }

  serialize(): Buffer {
    return this.#bytes;
  }
}

/** Copies of a built packet's header and payload, for werift's paths (which keep what they are given). */
function copiesOf(p: SentPacket): { header: HeaderBytes; payload: Buffer } {
  const end = p.off + p.length;
  const h = p.off + p.headerLength;
  return {
    header: new HeaderBytes(Buffer.from(p.buf.subarray(p.off, h))),
    payload: Buffer.from(p.buf.subarray(h, end)),
  };
}

/**
 * `prepareSrtp` for a packet built in memory of its own (sentPackets.ts: header and payload in one place, not
 * modified): encrypted straight from there into a new datagram, no header object and no copy before it.
 */
export function prepareSrtpPacket(
  dtls: RTCDtlsTransport,
  p: SentPacket,
  route: SrtpRoute,
): Buffer | Exclude<SendResult, 'direct'> {
  return preparePacketOn(dtls, resolve(dtls), p, route);
}

/** `prepareSrtpPacket` with the transport already resolved. */
function preparePacketOn(
  dtls: RTCDtlsTransport,
  r: Resolved | 'werift' | 'not_ready',
  p: SentPacket,
  route: SrtpRoute,
): Buffer | Exclude<SendResult, 'direct'> {
  if (r === 'werift') {
    const c = copiesOf(p);
    void dtls.sendRtp(c.payload, c.header as unknown as RtpHeader).catch(() => undefined);
    return r;
  }
  if (r === 'not_ready') {
    return r;
  }
  let enc: Buffer;
  try {
    const own = srtpSendState(r.srtp);
    if (own === null) {
      const c = copiesOf(p);
      enc = r.srtp.encrypt(c.payload, c.header);
    } else {
      const ssrc = p.buf.readInt32BE(p.off + 8); // int32: no boxed number per packet (the ROC table's key form)
      const seq = p.buf.readUInt16BE(p.off + 2);
      enc = own.encryptPacket(p.buf, p.off, p.headerLength, p.payloadLength, ssrc, seq);
    }
  } catch {
    return 'encrypt_failed';
  }
  routeTo(r, route);
  return enc;
}

const route = new SrtpRoute();
let turnQueue: TurnSendQueue | undefined;

/**
 * The queue `sendSrtp` sends through: with the native add-on a socket's datagrams of one event-loop turn leave
 * together when it ends (turnSendQueue.ts); without it (or SFU_NATIVE=0), or on a socket the add-on cannot send
 * on, each is sent at once.
 */
export function srtpTurnQueue(): TurnSendQueue {
  turnQueue ??= new TurnSendQueue();
  return turnQueue;
}

/** Sends a datagram `prepare…` made on `route`: queued for the turn's end when the add-on sends, else at once. */
function sendPrepared(enc: Buffer): void {
  const socket = route.socket;
  if (socket !== undefined) {
    const q = srtpTurnQueue();
    if (q.accepts(socket)) {
      q.push(socket, route.address, route.port, enc);
    } else {
      // An IP literal: like werift's own path, no callback (send errors go to the 'error' listener above).
      socket.send(enc, route.port, route.address);
    }
  }
  route.sent(1, enc.length);
}

/**
 * Encrypts and sends one RTP packet (`payload` is not modified): with the native add-on at the end of the
 * event-loop turn with the socket's other datagrams, else at once. Never throws; the result says which path
 * was taken.
 */
export function sendSrtp(dtls: RTCDtlsTransport, payload: Buffer, header: SrtpHeader): SendResult {
  const enc = prepareSrtp(dtls, payload, header, route, srtpTurnQueue());
  if (typeof enc === 'string') {
    return enc;
  }
  sendPrepared(enc);
  return 'direct';
}

/**
 * Sends one compound RTCP packet the SFU serialised (`plain`, not modified) the way forwarded RTP leaves: SRTCP-
 * protected with the transport's own cipher (srtcpTap.ts `protectRtcpDirect`, on werift's index counter) into
 * the turn's send queue, counted in the same statistics werift's `sendRtcp` counts. `werift` when this
 * transport's SRTCP is not tapped with the own cipher or its pair is not one this path sends on (the caller
 * sends through werift then); `not_ready` as for RTP. Never throws.
 */
export function sendSrtcp(dtls: RTCDtlsTransport, plain: Uint8Array): SendResult {
  const r = resolve(dtls);
  if (typeof r === 'string') {
    return r;
  }
  let enc: Buffer | undefined;
  try {
    enc = protectRtcpDirect(dtls, plain, srtpTurnQueue().slabFor(r.socket));
  } catch {
    return 'encrypt_failed';
  }
  if (enc === undefined) {
    return 'werift';
  }
  routeTo(r, route);
  sendPrepared(enc);
  return 'direct';
}

/**
 * `sendSrtp` for a packet built in place (sentPackets.ts; not modified). With the add-on sending on the socket
 * and the own cipher: encrypted into the queue's slab and queued as a slice of it (no object per datagram).
 */
export function sendSrtpPacket(dtls: RTCDtlsTransport, p: SentPacket): SendResult {
  return sendResolvedPacket(dtls, resolve(dtls), p);
}

/** `sendSrtpPacket` with the transport already resolved (`resolve(dtls)`, just before). */
export function sendResolvedPacket(
  dtls: RTCDtlsTransport,
  r: Resolved | 'werift' | 'not_ready',
  p: SentPacket,
): SendResult {
  if (typeof r !== 'string') {
    const q = srtpTurnQueue();
    const slab = q.slabFor(r.socket);
    const own = slab === undefined ? null : srtpSendState(r.srtp);
    if (slab !== undefined && own !== null) {
      const at = encryptPacketIntoSlab(own, slab, p);
      if (at === 'encrypt_failed') {
        return at;
      }
      const len = p.length + own.cipher.rtpOverhead;
      routeTo(r, route);
      q.pushSlice(r.socket, route.address, route.port, slab.buffer, at, len);
      route.sent(1, len);
      return 'direct';
    }
  }
  const enc = preparePacketOn(dtls, r, p, route); // not into the slab: none for this socket, or werift encrypts
  if (typeof enc === 'string') {
    return enc;
  }
  sendPrepared(enc);
  return 'direct';
}
