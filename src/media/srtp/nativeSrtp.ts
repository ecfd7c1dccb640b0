/**
 * The native SRTP: loads the add-on that the install script builds (scripts/build-native.js →
 * build/native/sfu_native.node, from native/*.c) and wraps it as an SrtpCipher. Loading never throws: it
 * yields the binding or the reason there is none (not built, does not load, wrong shape or ABI).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toError } from '../../util/errors.js';
import type { SrtpCipher } from './srtpCipher.js';
import type { SrtpKeySet } from './srtpKeys.js';
import { SRTCP_INDEX_LENGTH, srtpLengths, type SrtpProfile } from './srtpProfile.js';

/** native/addon.c ABI_VERSION: an add-on of another layout is not used. */
export const NATIVE_SRTP_ABI = 8;
export const NATIVE_SRTP_FILE = join('build', 'native', 'sfu_native.node');

declare const contextBrand: unique symbol;
/** One srtp_key of the add-on (an N-API external): the keys of SRTP or of SRTCP. */
export interface NativeSrtpContext {
  readonly [contextBrand]: true;
}

/** What the add-on exports (native/addon.c). */
export interface NativeSrtpBinding {
  readonly abi: number;
  createContext(profile: number, key: Uint8Array, salt: Uint8Array, authKey?: Uint8Array): NativeSrtpContext;
  encryptRtp(
    ctx: NativeSrtpContext,
    src: Uint8Array,
    srcOffset: number,
    headerLength: number,
    payloadLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  decryptRtp(
    ctx: NativeSrtpContext,
    src: Uint8Array,
    srcOffset: number,
    length: number,
    headerLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  encryptRtcp(
    ctx: NativeSrtpContext,
    src: Uint8Array,
    srcOffset: number,
    length: number,
    srtcpIndex: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  decryptRtcp(
    ctx: NativeSrtpContext,
    src: Uint8Array,
    srcOffset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): number;
  /**
   * Sends `list[0..count)` to `address`:`port` on the UDP socket `fd` (native/udp.c): how many were sent, in
   * order (fewer when the send buffer filled), or a negative errno when none was. With `offLen`, datagram i is
   * `list[i]`'s bytes `[offLen[2i], offLen[2i] + offLen[2i + 1])` (the same buffer in a row is read once): a
   * queue of slices of one slab sends without a view object per datagram. With `gso`, consecutive datagrams of
   * one length (the last may be shorter) leave as one segmented message (UDP GSO; native/udp.h): the same
   * datagrams on the wire, the stack traversed once per run; a path that refuses it gets them one by one, and
   * that fd is not segmented again.
   */
  sendBatch(
    fd: number,
    address: string,
    port: number,
    list: readonly Uint8Array[],
    count: number,
    offLen?: Int32Array,
    gso?: boolean,
  ): number;
  /** The segmented-send counters since start into `out`: messages, datagrams they carried, refusals. */
  gsoStats(out: Float64Array): number;
  /**
   * Calls `callback(status)` each time the UDP socket `fd` is readable (status 0) or its polling failed (a
   * negative libuv error; the watch then stops), on a duplicate of the fd (native/watch.c) until `unwatch`;
   * again at once, after the microtask checkpoint, while it returns true (at most 64 calls an event).
   */
  watchReadable(fd: number, callback: (status: number) => boolean): NativeWatch;
  /** Stops a watch and closes its duplicate fd (idempotent). */
  unwatch(watch: NativeWatch): void;
  /**
   * Stops (`paused`) or restarts a watch's readable events; its fd stays open for `recvBatch`. False when the
   * watch was stopped or libuv refused.
   */
  watchPause(watch: NativeWatch, paused: boolean): boolean;
  /**
   * Receives up to `slots` waiting datagrams (recvmmsg) into `buf`, datagram i at `offset + i * slotSize`, its
   * length, flags, port, family, address and µs waited in the socket in `meta[i * 9 ...]` (native/udp.h): how many (0: none waiting), or
   * a negative errno.
   */
  recvBatch(
    watch: NativeWatch,
    buf: Uint8Array,
    offset: number,
    slots: number,
    slotSize: number,
    meta: Int32Array,
  ): number;
  /** The address of received datagram `index` of `meta` as text (inet_ntop), or undefined. */
  metaAddress(meta: Int32Array, index: number): string | undefined;
  /**
   * One `poll()` (no wait) of the first `count` watches' fds: `out[i]` 1 when watch i has a datagram waiting (or
   * an error for `recvBatch` to report), else 0 (a stopped watch: 0). How many are, or a negative errno.
   */
  watchesReadable(watches: readonly NativeWatch[], count: number, out: Uint8Array): number;
}

declare const watchBrand: unique symbol;
/** A socket's readable events (an N-API external of native/watch.c). */
export interface NativeWatch {
  readonly [watchBrand]: true;
}

export type NativeSrtpLoad =
  | { readonly binding: NativeSrtpBinding; readonly reason?: undefined }
  | { readonly binding?: undefined; readonly reason: string };

const FUNCTIONS = [
  'createContext',
  'encryptRtp',
  'decryptRtp',
  'encryptRtcp',
  'decryptRtcp',
  'sendBatch',
  'watchReadable',
  'unwatch',
  'watchPause',
  'recvBatch',
  'metaAddress',
  'gsoStats',
  'watchesReadable',
] as const;

/** The add-on at `path`, or why not. */
export function loadNativeSrtp(path: string): NativeSrtpLoad {
  if (!existsSync(path)) {
    return { reason: `${path} is not there (the install did not build it)` };
  }
  let mod: unknown;
  try {
    mod = createRequire(import.meta.url)(path);
  } catch (e) {
    return { reason: `${path} does not load: ${toError(e).message.split('\n')[0] ?? ''}` };
  }
  const m = mod as Partial<Record<string, unknown>> | null | undefined;
  const missing = FUNCTIONS.find((f) => typeof m?.[f] !== 'function');
  if (missing !== undefined) {
    return { reason: `${path} has no ${missing}()` };
  }
  if (m?.abi !== NATIVE_SRTP_ABI) {
    return { reason: `${path} has ABI ${String(m?.abi)}, not ${NATIVE_SRTP_ABI} (rebuild: npm run install)` };
  }
  return { binding: mod as NativeSrtpBinding };
}

/** build/native/sfu_native.node in the package root: the nearest folder above this file with a package.json. */
export function nativeSrtpPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) {
      return join(dir, NATIVE_SRTP_FILE);
    }
    dir = dirname(dir);
  }
  return NATIVE_SRTP_FILE;
}

let loaded: NativeSrtpLoad | undefined;

/** The package's add-on, loaded once (SFU_NATIVE is not looked at here: createSrtpCipher.ts does). */
export function nativeSrtp(): NativeSrtpLoad {
  loaded ??= loadNativeSrtp(nativeSrtpPath());
  return loaded;
}

export class NativeSrtpCipher implements SrtpCipher {
  readonly native = true;
  readonly rtpOverhead: number;
  readonly rtcpOverhead: number;
  private readonly rtp: NativeSrtpContext;
  private readonly rtcp: NativeSrtpContext;

  constructor(
    private readonly b: NativeSrtpBinding,
    readonly profile: SrtpProfile,
    keys: SrtpKeySet,
  ) {
    this.rtpOverhead = srtpLengths(profile).tag;
    this.rtcpOverhead = SRTCP_INDEX_LENGTH + this.rtpOverhead;
    this.rtp = b.createContext(profile, keys.rtp.key, keys.rtp.salt, keys.rtp.authKey);
    this.rtcp = b.createContext(profile, keys.rtcp.key, keys.rtcp.salt, keys.rtcp.authKey);
  }

  encryptRtp(
    src: Uint8Array,
    srcOffset: number,
    headerLength: number,
    payloadLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    return this.b.encryptRtp(this.rtp, src, srcOffset, headerLength, payloadLength, roc, out, outOffset);
  }

  decryptRtp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    headerLength: number,
    roc: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    return this.b.decryptRtp(this.rtp, src, srcOffset, length, headerLength, roc, out, outOffset);
  }

  encryptRtcp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    srtcpIndex: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    return this.b.encryptRtcp(this.rtcp, src, srcOffset, length, srtcpIndex, out, outOffset);
  }

  decryptRtcp(
    src: Uint8Array,
    srcOffset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
  ): number {
    return this.b.decryptRtcp(this.rtcp, src, srcOffset, length, out, outOffset);
  }
}
