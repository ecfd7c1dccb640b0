/** The three test peer kinds behind one interface (types.ts). */
import { ChromiumPeer } from './chromiumPeer.js';
import type { PeerKind, TestPeer } from './types.js';
import { WeriftPeer } from './weriftPeer.js';
import { WrtcPeer } from './wrtcPeer.js';

export { ChromiumPeer, closeBrowser, launchBrowser } from './chromiumPeer.js';
export { WeriftPeer } from './weriftPeer.js';
export { WrtcPeer } from './wrtcPeer.js';
export type * from './types.js';

export async function createPeer(kind: PeerKind): Promise<TestPeer> {
  switch (kind) {
    case 'werift':
      return new WeriftPeer();
    case 'wrtc':
      return new WrtcPeer();
    case 'chromium':
      return ChromiumPeer.create();
  }
}
