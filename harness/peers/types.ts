/**
 * One small interface over three real WebRTC client implementations (werift, @roamhq/wrtc, Chromium through
 * playwright-core), so tests can play a Matrix call client's peer connection with any of them: the client's
 * `CallPeer` (client/peer.ts) plus which implementation it is. Every peer uses no STUN/TURN server and announces
 * only loopback (127.0.0.1, UDP) candidates; signalling is trickle ICE: returned SDPs carry no `a=candidate`
 * lines, candidates come through `onCandidate`.
 */
import type { CallPeer } from '../../client/peer.js';

export type { LocalCandidate, OfferOptions, RemoteCandidate } from '../../client/peer.js';

export type PeerKind = 'werift' | 'wrtc' | 'chromium';

export interface TestPeer extends CallPeer {
  readonly kind: PeerKind;
}
