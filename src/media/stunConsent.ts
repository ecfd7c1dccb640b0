/**
 * The focus's own ICE consent checks as bytes (RFC 7675 over RFC 8445 §7.2.2 / RFC 8489): the Binding request
 * a full ICE agent sends on its selected pair every few seconds, and the check of its answer. werift builds each
 * request as a `Message` attribute by attribute and waits for the answer in a transaction (a promise chain, an
 * AbortController and a timer per check); consentChecks.ts sends these bytes and reads the answer on the fast
 * path instead.
 *
 * A request carries USERNAME (`<remote ufrag>:<local ufrag>`), PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED with
 * the agent's tie-breaker, MESSAGE-INTEGRITY under the remote password and FINGERPRINT — what werift's
 * `buildRequest` puts in one (no USE-CANDIDATE: a request that must nominate stays werift's). The bytes other
 * than the transaction id, MESSAGE-INTEGRITY and FINGERPRINT are laid out once per set of credentials.
 *
 * Pure apart from the HMAC-SHA1 and CRC-32 (stunBinding.ts).
 */
import { Buffer } from 'node:buffer';
import {
  ATTR_FINGERPRINT,
  ATTR_ICE_CONTROLLED,
  ATTR_ICE_CONTROLLING,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_PRIORITY,
  ATTR_USERNAME,
  BINDING_REQUEST,
  BINDING_SUCCESS,
  canAnswerBindings,
  fingerprintOf,
  fingerprintValid,
  HEADER,
  integrityOf,
  integrityValid,
  MAGIC,
  MI_BYTES,
  readStunMessage,
} from './stunBinding.js';

/** The transaction id's length (RFC 8489 §5). */
export const TRANSACTION_ID_BYTES = 12;

/** What a consent request says, all of it fixed for one ICE session and role. */
export interface ConsentCredentials {
  localUfrag: string;
  remoteUfrag: string;
  /** The remote agent's password: the request's MESSAGE-INTEGRITY key, and its answer's. */
  remotePassword: string;
  controlling: boolean;
  /** The agent's tie-breaker (64 bits, RFC 8445 §7.1.1). */
  tieBreaker: bigint;
  /** PRIORITY: the priority a peer-reflexive candidate learned from this request would get. */
  priority: number;
}

/** Whether this Node can write a request (CRC-32 for FINGERPRINT). */
export const canWriteConsentRequests = canAnswerBindings;

const pad4 = (n: number): number => (n + 3) & ~3;

/** Consent requests under one set of credentials; the template is laid out once. */
export class ConsentRequestWriter {
  readonly credentials: Readonly<ConsentCredentials>;
  readonly #template: Buffer;
  readonly #miAt: number;
  readonly #fpAt: number;

  constructor(credentials: ConsentCredentials) {
    this.credentials = { ...credentials };
    const user = Buffer.from(`${credentials.remoteUfrag}:${credentials.localUfrag}`, 'utf8');
    if (user.length > 763) {
      throw new RangeError('USERNAME longer than 763 bytes'); // RFC 8489 §14.3
    }
    const userAt = HEADER;
    const priorityAt = userAt + 4 + pad4(user.length);
    const roleAt = priorityAt + 8;
    this.#miAt = roleAt + 12;
    this.#fpAt = this.#miAt + 4 + MI_BYTES;
    const b = Buffer.alloc(this.#fpAt + 8);
    b.writeUInt16BE(BINDING_REQUEST, 0);
    b.writeUInt16BE(b.length - HEADER, 2);
    b.writeUInt32BE(MAGIC, 4);
    b.writeUInt16BE(ATTR_USERNAME, userAt);
    b.writeUInt16BE(user.length, userAt + 2);
    user.copy(b, userAt + 4);
    b.writeUInt16BE(ATTR_PRIORITY, priorityAt);
    b.writeUInt16BE(4, priorityAt + 2);
    b.writeUInt32BE(credentials.priority >>> 0, priorityAt + 4);
    b.writeUInt16BE(credentials.controlling ? ATTR_ICE_CONTROLLING : ATTR_ICE_CONTROLLED, roleAt);
    b.writeUInt16BE(8, roleAt + 2);
    b.writeBigUInt64BE(BigInt.asUintN(64, credentials.tieBreaker), roleAt + 4);
    b.writeUInt16BE(ATTR_MESSAGE_INTEGRITY, this.#miAt);
    b.writeUInt16BE(MI_BYTES, this.#miAt + 2);
    b.writeUInt16BE(ATTR_FINGERPRINT, this.#fpAt);
    b.writeUInt16BE(4, this.#fpAt + 2);
    this.#template = b;
  }

  /** Whether `c` is what this writer writes (the session, role and tie-breaker unchanged). */
  matches(c: ConsentCredentials): boolean {
    const w = this.credentials;
    return (
      w.localUfrag === c.localUfrag &&
      w.remoteUfrag === c.remoteUfrag &&
      w.remotePassword === c.remotePassword &&
      w.controlling === c.controlling &&
      w.tieBreaker === c.tieBreaker &&
      w.priority === c.priority
    );
  }

  /** A request with transaction id `txid` (12 bytes): new bytes each time (a send may still hold the last). */
  write(txid: Uint8Array): Buffer {
    if (txid.length !== TRANSACTION_ID_BYTES) {
      throw new RangeError('a STUN transaction id is 12 bytes');
    }
    const out = Buffer.from(this.#template);
    out.set(txid, 8);
    integrityOf(out, this.#miAt, this.credentials.remotePassword).copy(out, this.#miAt + 4);
    const crc = fingerprintOf(out, this.#fpAt);
    if (crc === undefined) {
      throw new Error('CRC-32 unavailable: no FINGERPRINT can be written');
    }
    out.writeUInt32BE(crc, this.#fpAt + 4);
    return out;
  }
}

/**
 * Whether `data` is a Binding success response to the request with transaction id `txid`, authenticated by its
 * MESSAGE-INTEGRITY under `password` (the remote agent's; required: an unauthenticated answer gives no consent)
 * and, when it has one, a valid FINGERPRINT. Anything malformed is false.
 */
export function isConsentSuccess(data: Uint8Array, txid: Uint8Array, password: string): boolean {
  const m = readStunMessage(data, BINDING_SUCCESS);
  if (m === undefined || txid.length !== TRANSACTION_ID_BYTES) {
    return false;
  }
  for (let i = 0; i < TRANSACTION_ID_BYTES; i++) {
    if (data[8 + i] !== txid[i]) {
      return false;
    }
  }
  return (
    m.integrityAt >= 0 &&
    integrityValid(data, m.integrityAt, password) &&
    (m.fingerprintAt < 0 || fingerprintValid(data, m.fingerprintAt))
  );
}
