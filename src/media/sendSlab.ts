/**
 * Reused memory for the encrypted datagrams a send queue holds until it sends them (performance-design.md step
 * 2, zero garbage): `take(n)` hands out the next `n` bytes of one large buffer, `reset()` starts over once
 * everything taken has left. Without it each datagram was a `Buffer.allocUnsafe` — a slice of node's 8-KiB pool,
 * so a new pool ArrayBuffer every ~6 forwarded packets, which in a focus's profile at 20 subscribers was ~13 % of
 * the samples while a frame fanned out. Only for datagrams sent synchronously before the reset (the add-on's
 * `sendmmsg`): a datagram handed to `socket.send`, which keeps it until libuv sends it, must be a copy
 * (UdpBatcher.send `transient`). A full slab is replaced by a new one of the same size (what was taken from the
 * old stays valid: it is only dropped, never written again). Each view is a small Buffer object; no
 * ArrayBuffer is made per datagram.
 */
import { Buffer } from 'node:buffer';
export const SLAB_BYTES = 256 * 1024;

/** Views start on 8-byte boundaries. */
const ALIGN = 8;

export class SendSlab {
  #buf: Buffer;
  #off = 0;

  constructor(readonly bytes: number = SLAB_BYTES) {
    this.#buf = Buffer.allocUnsafeSlow(bytes);
  }

  /** The next `n` bytes (contents undefined), valid until `reset()`. */
  take(n: number): Buffer {
    const at = this.reserve(n);
    return this.#buf.subarray(at, at + n);
  }

  /**
   * The next `n` bytes as an offset into {@link buffer} (read it after this call: a full slab is replaced),
   * valid until `reset()` — `take` without the view object.
   */
  reserve(n: number): number {
    if (this.#off + n > this.#buf.length) {
      this.#buf = Buffer.allocUnsafeSlow(Math.max(this.bytes, n));
      this.#off = 0;
    }
    const at = this.#off;
    this.#off = (this.#off + n + ALIGN - 1) & ~(ALIGN - 1);
    return at;
  }

  /** The memory `reserve` hands out now. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Bytes taken since the last reset (of the current buffer). */
  get used(): number {
    return this.#off;
  }

  /** Everything taken has been sent (or copied): the memory is handed out again from the start. */
  reset(): void {
    this.#off = 0;
  }
}

/** Where a send path may take a datagram's memory for a socket: a slab when it sends synchronously. */
export interface SlabSource {
  slabFor(socket: object): SendSlab | undefined;
}
