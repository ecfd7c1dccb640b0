/**
 * Larger UDP receive buffers for the sockets werift binds for ICE (`media.udp_receive_buffer_bytes`, default
 * 1 MiB). A focus's event loop stalls now and then (a burst of joins, GC, a busy host); meanwhile every peer's
 * packets queue in its socket's kernel buffer, and what does not fit is dropped. With the system default
 * (212,992 B on Linux) a 3 Mbit/s trunk overflows after about half a second — measured at the 20/20 cascade
 * point: the receiving focus's trunk socket dropped packets each run, which both loss rules read as congestion.
 * The kernel caps the size at `net.core.rmem_max`; when it does, the cap is reported once (the operator raises
 * it with sysctl). 0 leaves the system default. Not more: a buffer is also a queue, and a focus that cannot keep
 * up delays media by what its buffers hold — with 4 MiB at the 20/20 point the hop's p95 reached 0.2–0.8 s.
 * Linux accounts each datagram at about twice its size, so 1 MiB holds about 1.5 s of a 3 Mbit/s trunk.
 *
 * Applied by a patch of werift's `RTCIceGatherer.gather` (gatherPatch.ts), after gathering, to every socket of the connection
 * (client and link peers alike); the size is process-wide, set at start from the config.
 */
import type { Socket } from 'node:dgram';
import type { RTCIceGatherer } from 'werift';
import { patchGather } from './gatherPatch.js';

interface GathererSockets {
  connection?: { protocols?: readonly { transport?: { socket?: unknown } }[] };
}

export interface ReceiveBufferSetting {
  /** Bytes to ask for (0: leave the system default). */
  readonly bytes: number;
  /** The kernel granted less than asked (reported once per process). */
  readonly capped?: (asked: number, granted: number) => void;
}

/** Linux reports (and accounts) twice the size set; elsewhere the size as set. */
const KERNEL_FACTOR = process.platform === 'linux' ? 2 : 1;

let setting: ReceiveBufferSetting = { bytes: 0 };
let cappedReported = false;

/** Sets the size every later gathering applies (0: none). */
export function setUdpReceiveBuffer(s: ReceiveBufferSetting): void {
  setting = s;
  cappedReported = false;
}

function isSocket(x: unknown): x is Socket {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Socket).setRecvBufferSize === 'function' &&
    typeof (x as Socket).getRecvBufferSize === 'function'
  );
}

/**
 * Asks `socket` for `bytes` of receive buffer; returns what the kernel reports afterwards (Linux reports twice
 * the size set, for its bookkeeping), or undefined when the socket refused (not bound, closed).
 */
export function applyReceiveBuffer(socket: Socket, bytes: number): number | undefined {
  try {
    socket.setRecvBufferSize(bytes);
    return socket.getRecvBufferSize();
  } catch {
    return undefined;
  }
}

/** Applies the current setting to the sockets of a gatherer's connection; returns how many took it. */
export function applyToGatherer(g: RTCIceGatherer): number {
  const bytes = setting.bytes;
  if (!(bytes > 0)) {
    return 0;
  }
  let applied = 0;
  for (const p of (g as unknown as GathererSockets).connection?.protocols ?? []) {
    const socket = p.transport?.socket;
    if (!isSocket(socket)) {
      continue;
    }
    const granted = applyReceiveBuffer(socket, bytes);
    if (granted === undefined) {
      continue;
    }
    applied++;
    if (granted < bytes * KERNEL_FACTOR && !cappedReported) {
      cappedReported = true;
      setting.capped?.(bytes, granted);
    }
  }
  return applied;
}

patchGather('matrix-sfu.udpReceiveBuffer', { after: applyToGatherer });
