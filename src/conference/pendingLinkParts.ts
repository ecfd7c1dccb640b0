/**
 * A stand-in for the media side of links (src/media/link, LinkMediaPort) until it is wired in: a link peer
 * cannot be created (named error, so invites out are retried with backoff and invites in are refused M_UNKNOWN).
 */
import type { LinkMediaPort, LinkPeerPort } from './linkPorts.js';

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
