/**
 * The media layer's lifecycle: proves at start-up that a UDP socket can be bound on the configured address
 * within the configured port range (the 'media' readiness check), creates peers, and owns the set of
 * closable media resources (peer connections) so shutdown closes them all.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { RTCPeerConnection } from 'werift';
import type { MediaConfig } from '../config/types.js';
import { Peer } from './peer.js';
import { peerConfig } from './peerConfig.js';

export interface Closable {
  close(): void | Promise<void>;
}

export class MediaLayerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MediaLayerError';
  }
}

function tryBind(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ address, port, exclusive: true }, () => {
      sock.close(() => {
        resolve(true);
      });
    });
  });
}

export class MediaLayer {
  readonly #config: MediaConfig;
  readonly #resources = new Set<Closable>();
  #started = false;

  constructor(config: MediaConfig) {
    this.#config = config;
  }

  get started(): boolean {
    return this.#started;
  }

  get openResources(): number {
    return this.#resources.size;
  }

  /** Binds one port of the range (up to 20 tries, random order), then releases it. */
  async start(random: () => number = Math.random): Promise<void> {
    const { min, max } = this.#config.port_range;
    const span = max - min + 1;
    const tries = Math.min(20, span);
    for (let i = 0; i < tries; i++) {
      const port = min + Math.floor(random() * span);
      if (await tryBind(this.#config.bind_address, port)) {
        this.#started = true;
        return;
      }
    }
    throw new MediaLayerError(
      `cannot bind UDP on ${this.#config.bind_address} in ports ${min}-${max} (${tries} tries); check media.bind_address and media.port_range`,
    );
  }

  /** A new peer for a client offer, tracked until it closes (shutdown closes every tracked peer). */
  createPeer(offerSdp: string): Peer {
    const peer = Peer.create(
      this.#config,
      offerSdp,
      (bundle) => new RTCPeerConnection(peerConfig(this.#config, bundle)),
    );
    const untrack = this.track(peer);
    void peer.whenClosed().then(untrack);
    return peer;
  }

  track(r: Closable): () => void {
    this.#resources.add(r);
    return () => this.#resources.delete(r);
  }

  async close(): Promise<void> {
    const all = [...this.#resources];
    this.#resources.clear();
    await Promise.allSettled(all.map(async (r) => r.close()));
    this.#started = false;
  }
}
