/**
 * The media layer's lifecycle: proves at start-up that a UDP socket can be bound on the configured address
 * within the configured port range (the 'media' readiness check), creates peers (clients' and links'), and owns the set of
 * closable media resources (peer connections) so shutdown closes them all.
 */
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { RTCPeerConnection } from 'werift';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { MediaConfig } from '../config/types.js';
import type { Clock } from '../util/clock.js';
import { LinkPeer } from './link/linkPeer.js';
import type { LinkPeerOptions } from './link/types.js';
import {
  MediaCounters,
  registerMediaMetrics,
  registerSrtpMetric,
  registerUdpDropsMetric,
} from './mediaMetrics.js';
import { srtpImplementation } from './srtp/createSrtpCipher.js';
import { Peer } from './peer.js';
import type { MediaContext } from './peerMedia.js';
import { peerConfig } from './peerConfig.js';
import { PublisherRemb } from './publisherRemb.js';
import { setUdpReceiveBuffer } from './udpReceiveBuffer.js';
import { UdpDrops } from './udpDrops.js';

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

export interface MediaLayerDeps {
  clock: Clock;
  log: Logger;
  /** Where the media metrics are registered (none: counted, not exported). */
  registry?: Registry;
}

export class MediaLayer {
  readonly #config: MediaConfig;
  readonly #resources = new Set<Closable>();
  readonly #ctx: MediaContext;
  readonly counters = new MediaCounters();
  #started = false;

  constructor(config: MediaConfig, deps: MediaLayerDeps) {
    this.#config = config;
    setUdpReceiveBuffer({
      bytes: config.udp_receive_buffer_bytes ?? 0,
      capped: (asked, granted) => {
        deps.log.warn(
          { asked, granted },
          'the kernel capped UDP receive buffers below media.udp_receive_buffer_bytes: raise net.core.rmem_max (sysctl) so bursts during event-loop stalls are not dropped',
        );
      },
    });
    this.#ctx = {
      clock: deps.clock,
      counters: this.counters,
      log: deps.log,
      pliMinIntervalMs: config.pli_min_interval_ms,
      publisherRemb: new PublisherRemb(config.publisher_remb_bps, config.publisher_remb_from_demand ?? true),
      skipUnwatched: config.skip_unwatched_layers ?? true,
    };
    const srtp = srtpImplementation();
    if (srtp.native) {
      deps.log.info('SRTP: native add-on');
    } else {
      deps.log.warn(
        { reason: srtp.reason },
        'SRTP: the pure-TypeScript implementation (same bytes, more CPU per packet); the native add-on is built by npm ci with a C compiler (cc)',
      );
    }
    if (deps.registry !== undefined) {
      registerMediaMetrics(deps.registry, this.counters);
      registerUdpDropsMetric(deps.registry, new UdpDrops(config.port_range));
      registerSrtpMetric(deps.registry, srtp.native);
    }
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
      this.#ctx,
    );
    const untrack = this.track(peer);
    void peer.whenClosed().then(untrack);
    return peer;
  }

  /**
   * A new link peer (protocol.md §8), its send budget capped at `maxLinkBps` (`cascade.max_link_bps`; optionally
   * `keepLowestLayer`, `cascade.keep_lowest_layer`), tracked
   * until it closes like a client peer (shutdown closes it).
   */
  createLinkPeer(opts: LinkPeerOptions): LinkPeer {
    const peer = new LinkPeer(this.#config, this.#ctx, opts);
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
