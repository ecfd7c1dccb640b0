/**
 * End-to-end encryption of encoded media frames (the call page's E2EE), pure apart from WebCrypto: AES-GCM
 * (128-bit key) per frame with a fresh random 96-bit IV. The first bytes of each frame stay in the clear, as
 * the SFU reads them (protocol.md §7: keyframes and sizes come from the VP8 payload header) and as the
 * receiving decoder's packetizer expects: 10 bytes of a VP8 keyframe (frame tag + start code + size), 3 of a VP8
 * interframe, 1 of an Opus frame (its TOC byte). They are authenticated as additional data.
 *
 * Frame on the wire: clear bytes ‖ ciphertext and tag ‖ IV (12 bytes) ‖ clear length (1 byte). A frame that
 * does not decrypt (another key, damaged, or never encrypted) yields `undefined`: the caller drops it.
 */

/** WebCrypto's types, named so the file compiles with the DOM library (the page) and Node's (its tests). */
type Subtle = typeof crypto.subtle;
export type FrameKey = Awaited<ReturnType<Subtle['importKey']>>;

export const IV_BYTES = 12;
const TRAILER = IV_BYTES + 1;
const TAG_BYTES = 16;
const SALT = new TextEncoder().encode('matrix-sfu call page e2ee v1');

/** The AES-GCM key for a passphrase (the URL fragment's `key`): PBKDF2-SHA-256, 100 000 iterations. */
export async function deriveKey(passphrase: string, subtle: Subtle = crypto.subtle): Promise<FrameKey> {
  const material = await subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: SALT, iterations: 100_000 },
    material,
    { name: 'AES-GCM', length: 128 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** How many leading bytes of a frame stay clear. */
export function clearBytes(kind: 'audio' | 'video', frame: Uint8Array): number {
  if (kind === 'audio') {
    return Math.min(1, frame.length);
  }
  const keyframe = frame.length > 0 && ((frame[0] ?? 1) & 0x01) === 0; // VP8 frame tag: P bit 0 = keyframe
  return Math.min(keyframe ? 10 : 3, frame.length);
}

export async function encryptFrame(
  key: FrameKey,
  kind: 'audio' | 'video',
  frame: Uint8Array<ArrayBuffer>,
  subtle: Subtle = crypto.subtle,
): Promise<Uint8Array<ArrayBuffer>> {
  const n = clearBytes(kind, frame);
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(
    await subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: frame.subarray(0, n) },
      key,
      frame.subarray(n),
    ),
  );
  const out = new Uint8Array(n + sealed.length + TRAILER);
  out.set(frame.subarray(0, n), 0);
  out.set(sealed, n);
  out.set(iv, n + sealed.length);
  out[out.length - 1] = n;
  return out;
}

/** The plain frame, or undefined when it does not decrypt with `key`. */
export async function decryptFrame(
  key: FrameKey,
  frame: Uint8Array<ArrayBuffer>,
  subtle: Subtle = crypto.subtle,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (frame.length < TRAILER + TAG_BYTES) {
    return undefined;
  }
  const n = frame[frame.length - 1] ?? 0;
  const end = frame.length - TRAILER;
  if (n > end - TAG_BYTES) {
    return undefined;
  }
  const iv = frame.subarray(end, end + IV_BYTES);
  try {
    const plain = new Uint8Array(
      await subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: frame.subarray(0, n) },
        key,
        frame.subarray(n, end),
      ),
    );
    const out = new Uint8Array(n + plain.length);
    out.set(frame.subarray(0, n), 0);
    out.set(plain, n);
    return out;
  } catch {
    return undefined;
  }
}
