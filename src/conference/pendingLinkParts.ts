/**
 * Stand-ins for the media side of links (src/media/link, LinkMediaPort) and for link media routing
 * (linkRelay.ts) until they are wired in: a link peer cannot be created (named error, so invites out are
 * retried with backoff and invites in are refused M_UNKNOWN), and a relay routes nothing.
 */
import type { LinkMediaPort, LinkPeerPort } from './linkPorts.js';
import type { LinkRelayPort } from './linkRelayTypes.js';

export class LinkMediaUnavailableError extends Error {
  constructor() {
    super('this build has no link media (src/media/link is not wired in)');
    this.name = 'LinkMediaUnavailableError';
  }
}

export const noLinkMedia: LinkMediaPort = {
  createLinkPeer(): LinkPeerPort {
    throw new LinkMediaUnavailableError();
  },
};

/** A relay that routes nothing (no relayed publications, no local tracks sent). */
export class NoRelay implements LinkRelayPort {
  readonly expecting = false;
  attach(): void {}
  opened(): void {}
  handle(): void {}
  localChanged(): void {}
  tick(): void {}
  close(): void {}
}
