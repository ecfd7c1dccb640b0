/**
 * STUN Binding requests read and answered without werift (RFC 5389 / RFC 8489 message format, RFC 8445 §7.3 ICE
 * attributes): the ICE consent checks a connected client sends every few seconds (RFC 7675). werift answers each
 * through its generic STUN parser, a triggered-check pass that builds debug strings whether or not debugging
 * is on, and a response built attribute by attribute — ≈ 0.4 ms of the main thread per request at idle. The
 * fast path (udpFastPath.ts) asks `consentAnswer` for a request from a pair whose checks already succeeded; it
 * answers only an ordinary check: the username names the connection's current local ufrag, no USE-CANDIDATE,
 * the role attribute opposite to ours, a valid MESSAGE-INTEGRITY under our password (werift checks none) and,
 * when present, a valid FINGERPRINT. Everything else (nominations, role conflicts, an ICE restart's new ufrag,
 * a request that does not verify) goes to werift as before.
 *
 * The message reading, integrity and fingerprint here also serve the focus's own consent requests and their
 * answers (stunConsent.ts).
 *
 * Pure apart from the HMAC-SHA1 and CRC-32 (node:crypto, node:zlib).
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';
import zlib from 'node:zlib';

/** The STUN wire constants (RFC 8489 §5, §14, §18; RFC 8445 §7.1, §16.1), shared with stunConsent.ts. */
export const HEADER = 20;
export const MAGIC = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const ATTR_USERNAME = 0x0006;
export const ATTR_MESSAGE_INTEGRITY = 0x0008;
export const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
export const ATTR_PRIORITY = 0x0024;
export const ATTR_USE_CANDIDATE = 0x0025;
export const ATTR_FINGERPRINT = 0x8028;
export const ATTR_ICE_CONTROLLED = 0x8029;
export const ATTR_ICE_CONTROLLING = 0x802a;
export const MI_BYTES = 20;
const FINGERPRINT_XOR = 0x5354554e;

/** node:zlib's CRC-32 (Node ≥ 20.15); absent on an older Node, where werift keeps answering. */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** What the fast path needs of a STUN message: its ICE attributes, and where its integrity and fingerprint are. */
export interface StunAttributes {
  /** The USERNAME attribute (`<receiver's ufrag>:<sender's ufrag>`; '' without one). */
  username: string;
  hasUsername: boolean;
  useCandidate: boolean;
  iceControlling: boolean;
  iceControlled: boolean;
  /** Offset of the MESSAGE-INTEGRITY attribute's header (-1: none). */
  integrityAt: number;
  /** Offset of the FINGERPRINT attribute's header (-1: none). */
  fingerprintAt: number;
}

export type BindingRequest = StunAttributes;

/** A well-formed STUN Binding request with a USERNAME: its attributes, or undefined (anything else, or malformed). */
export function readBindingRequest(data: Uint8Array): BindingRequest | undefined {
  const m = readStunMessage(data, BINDING_REQUEST);
  return m?.hasUsername === true ? m : undefined;
}

/**
 * A well-formed STUN message of `messageType` (the header's length, magic cookie and 4-byte alignment; every
 * attribute inside the message; MESSAGE-INTEGRITY of 20 bytes, FINGERPRINT of 4 and last): its attributes, or
 * undefined.
 */
export function readStunMessage(data: Uint8Array, messageType: number): StunAttributes | undefined {
  if (data.length < HEADER || ((data[0] as number) << 8) + (data[1] as number) !== messageType) {
    return undefined;
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(4) !== MAGIC || view.getUint16(2) + HEADER !== data.length || (data.length & 3) !== 0) {
    return undefined;
  }
  const out: StunAttributes = {
    username: '',
    hasUsername: false,
    useCandidate: false,
    iceControlling: false,
    iceControlled: false,
    integrityAt: -1,
    fingerprintAt: -1,
  };
  for (let at = HEADER; at < data.length;) {
    if (at + 4 > data.length || out.fingerprintAt >= 0) {
      return undefined; // a truncated attribute, or one after FINGERPRINT (which must be last)
    }
    const type = view.getUint16(at);
    const len = view.getUint16(at + 2);
    const end = at + 4 + len;
    if (end > data.length) {
      return undefined;
    }
    if (out.integrityAt < 0 || type === ATTR_FINGERPRINT) {
      // After MESSAGE-INTEGRITY only FINGERPRINT counts (RFC 8489 §14.5): others are ignored.
      switch (type) {
        case ATTR_USERNAME:
          out.username = Buffer.from(data.buffer, data.byteOffset + at + 4, len).toString('utf8');
          out.hasUsername = true;
          break;
        case ATTR_USE_CANDIDATE:
          out.useCandidate = true;
          break;
        case ATTR_ICE_CONTROLLING:
          out.iceControlling = true;
          break;
        case ATTR_ICE_CONTROLLED:
          out.iceControlled = true;
          break;
        case ATTR_MESSAGE_INTEGRITY:
          if (len !== MI_BYTES) {
            return undefined;
          }
          out.integrityAt = at;
          break;
        case ATTR_FINGERPRINT:
          if (len !== 4) {
            return undefined;
          }
          out.fingerprintAt = at;
          break;
      }
    }
    at = end + ((4 - (len & 3)) & 3);
  }
  return out;
}

/** HMAC-SHA1 of `data[0, at)` with the header's length field set as if the message ended after MI at `at`. */
export function integrityOf(data: Uint8Array, at: number, key: string): Buffer {
  const header = Buffer.from(data.subarray(0, HEADER));
  header.writeUInt16BE(at + 4 + MI_BYTES - HEADER, 2);
  return createHmac('sha1', key).update(header).update(data.subarray(HEADER, at)).digest();
}

/** CRC-32 of `data[0, at)` with the length field counting the FINGERPRINT attribute at `at`, XOR'd per RFC 8489. */
export function fingerprintOf(data: Uint8Array, at: number): number | undefined {
  if (crc32 === undefined) {
    return undefined;
  }
  const head = Buffer.from(data.subarray(0, at));
  head.writeUInt16BE(at + 8 - HEADER, 2);
  return (crc32(head) ^ FINGERPRINT_XOR) >>> 0;
}

/** Whether the message's MESSAGE-INTEGRITY verifies under `password` (ICE: the short-term credential). */
export function integrityValid(data: Uint8Array, integrityAt: number, password: string): boolean {
  if (integrityAt < HEADER || integrityAt + 4 + MI_BYTES > data.length) {
    return false;
  }
  const want = integrityOf(data, integrityAt, password);
  return timingSafeEqual(want, data.subarray(integrityAt + 4, integrityAt + 4 + MI_BYTES));
}

/** Whether the message's FINGERPRINT (at `fingerprintAt`, its last attribute) matches; false without CRC-32. */
export function fingerprintValid(data: Uint8Array, fingerprintAt: number): boolean {
  if (fingerprintAt < HEADER || fingerprintAt + 8 !== data.length) {
    return false;
  }
  const crc = fingerprintOf(data, fingerprintAt);
  return crc !== undefined && crc === new DataView(data.buffer, data.byteOffset).getUint32(fingerprintAt + 4);
}

/** Whether this Node can answer here at all (CRC-32 for the response's FINGERPRINT). */
export const canAnswerBindings = crc32 !== undefined;

/** The local ICE agent's credentials and role, as its connection holds them. */
export interface LocalIce {
  ufrag: string;
  password: string;
  controlling: boolean;
}

/**
 * The success response for `data` from `addr` when it is an ordinary consent check addressed to `local` (see
 * above); undefined — werift's to answer — for anything else.
 */
export function consentAnswer(
  data: Uint8Array,
  addr: readonly [string, number],
  local: LocalIce,
): Buffer | undefined {
  const req = readBindingRequest(data);
  if (
    req === undefined ||
    req.useCandidate ||
    req.username.slice(0, Math.max(0, req.username.indexOf(':'))) !== local.ufrag ||
    (local.controlling
      ? !req.iceControlled || req.iceControlling
      : !req.iceControlling || req.iceControlled) ||
    !integrityValid(data, req.integrityAt, local.password) ||
    (req.fingerprintAt >= 0 && !fingerprintValid(data, req.fingerprintAt))
  ) {
    return undefined;
  }
  return bindingSuccess(data, addr, local.password);
}

/**
 * A Binding success response to the request `request` (its transaction id) from `addr`: XOR-MAPPED-ADDRESS,
 * MESSAGE-INTEGRITY under `password`, FINGERPRINT. Undefined for an address that is not an IP literal or
 * without CRC-32.
 */
export function bindingSuccess(
  request: Uint8Array,
  addr: readonly [string, number],
  password: string,
): Buffer | undefined {
  const [host, port] = addr;
  const v4 = isIPv4(host);
  const ip = v4 ? ipv4Bytes(host) : ipv6Bytes(host);
  if (ip === undefined || crc32 === undefined) {
    return undefined;
  }
  const xorLen = 4 + ip.length;
  const miAt = HEADER + 4 + xorLen;
  const fpAt = miAt + 4 + MI_BYTES;
  const out = Buffer.alloc(fpAt + 8);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt32BE(MAGIC, 4);
  out.set(request.subarray(8, HEADER), 8); // the transaction id
  out.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, HEADER);
  out.writeUInt16BE(xorLen, HEADER + 2);
  out[HEADER + 5] = v4 ? 0x01 : 0x02;
  out.writeUInt16BE((port ^ (MAGIC >>> 16)) & 0xffff, HEADER + 6);
  for (let i = 0; i < ip.length; i++) {
    out[HEADER + 8 + i] = (ip[i] as number) ^ (out[4 + i] as number); // cookie, then (IPv6) the transaction id
  }
  out.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, miAt);
  out.writeUInt16BE(MI_BYTES, miAt + 2);
  integrityOf(out, miAt, password).copy(out, miAt + 4);
  out.writeUInt16BE(ATTR_FINGERPRINT, fpAt);
  out.writeUInt16BE(4, fpAt + 2);
  out.writeUInt16BE(fpAt + 8 - HEADER, 2);
  out.writeUInt32BE(fingerprintOf(out, fpAt) ?? 0, fpAt + 4);
  return out;
}

function ipv4Bytes(host: string): Uint8Array | undefined {
  const parts = host.split('.');
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const n = Number(parts[i]);
    if (parts.length !== 4 || !Number.isInteger(n) || n < 0 || n > 255) {
      return undefined;
    }
    out[i] = n;
  }
  return out;
}

function ipv6Bytes(host: string): Uint8Array | undefined {
  const [head, tail, ...more] = host.split('::');
  if (more.length > 0 || head === undefined || host.includes('.') || host.includes('%')) {
    return undefined; // an embedded IPv4 or a zone: left to werift
  }
  const hi = head === '' ? [] : head.split(':');
  const lo = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = 8 - hi.length - lo.length;
  if ((tail === undefined && fill !== 0) || fill < 0) {
    return undefined;
  }
  const groups = [...hi, ...Array<string>(fill).fill('0'), ...lo];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i] ?? '';
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) {
      return undefined;
    }
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  return out;
}
