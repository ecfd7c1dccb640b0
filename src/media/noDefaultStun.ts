/**
 * werift's ICE agent falls back to a STUN server of its own (stun.l.google.com:19302) whenever none is
 * configured — `iceServers: []` included — and sends it a binding request from every local candidate of
 * every connection. A self-hosted SFU must not contact a third party on each call (nor advertise the
 * reflexive address it learns), and tests must stay on loopback. This patch, applied once at import, clears
 * that fallback before each gathering when the connection was given no STUN server; a configured one is
 * kept.
 */
import { RTCIceGatherer } from 'werift';

interface GathererInternals {
  options: { stunServer?: unknown };
  connection: { stunServer?: unknown };
}

const PATCHED = Symbol.for('matrix-sfu.noDefaultStun');

type Patchable = typeof RTCIceGatherer.prototype & { [PATCHED]?: boolean };

const proto = RTCIceGatherer.prototype as Patchable;
if (proto[PATCHED] !== true) {
  const gather = Object.getOwnPropertyDescriptor(proto, 'gather')?.value as (
    this: RTCIceGatherer,
  ) => Promise<void>;
  proto.gather = function (this: RTCIceGatherer): Promise<void> {
    const self = this as unknown as GathererInternals;
    if (self.options.stunServer === undefined) {
      self.connection.stunServer = undefined;
    }
    return gather.call(this);
  };
  proto[PATCHED] = true;
}

/** For tests: whether a gatherer would contact a STUN server. */
export function stunServerOf(g: RTCIceGatherer): unknown {
  return (g as unknown as GathererInternals).connection.stunServer;
}
