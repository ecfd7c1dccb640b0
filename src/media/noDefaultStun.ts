/**
 * werift's ICE agent falls back to a STUN server of its own (stun.l.google.com:19302) whenever none is
 * configured — `iceServers: []` included — and sends it a binding request from every local candidate of
 * every connection. A self-hosted SFU must not contact a third party on each call (nor advertise the
 * reflexive address it learns), and tests must stay on loopback. This patch, applied once at import, clears
 * that fallback before each gathering when the connection was given no STUN server; a configured one is
 * kept (gatherPatch.ts).
 */
import type { RTCIceGatherer } from 'werift';
import { patchGather } from './gatherPatch.js';

interface GathererInternals {
  options: { stunServer?: unknown };
  connection: { stunServer?: unknown };
}

patchGather('matrix-sfu.noDefaultStun', {
  before: (g) => {
    const self = g as unknown as GathererInternals;
    if (self.options.stunServer === undefined) {
      self.connection.stunServer = undefined;
    }
  },
});

/** For tests: whether a gatherer would contact a STUN server. */
export function stunServerOf(g: RTCIceGatherer): unknown {
  return (g as unknown as GathererInternals).connection.stunServer;
}
