/**
 * A test peer whose media path goes through a UdpRelay: the peer's one loopback UDP host candidate is
 * announced as the relay's SFU-facing port, and the SFU's candidate (in its SDP or trickled) is handed to the
 * peer as the relay's peer-facing port. Every other candidate is dropped, so no direct path bypasses the
 * relay. One transport only (BUNDLE), which is what every test peer here negotiates.
 */
import type { UdpRelay } from '../udpRelay.js';
import type { LocalCandidate, OfferOptions, RemoteCandidate, TestPeer } from './types.js';

interface Parsed {
  fields: string[];
  address: string;
  port: number;
}

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …` */
function parse(line: string): Parsed | undefined {
  const fields = line.replace(/^a=/, '').trim().split(/\s+/);
  if (fields.length < 8 || !fields[0]!.startsWith('candidate:') || fields[2]!.toLowerCase() !== 'udp') {
    return undefined;
  }
  const port = Number(fields[5]);
  if (fields[1] !== '1' || fields[4] !== '127.0.0.1' || !Number.isInteger(port)) {
    return undefined;
  }
  return { fields, address: fields[4], port };
}

function withPort(p: Parsed, port: number): string {
  const f = [...p.fields];
  f[5] = String(port);
  return f.join(' ');
}

export class RelayedPeer implements TestPeer {
  readonly inner: TestPeer;
  readonly relay: UdpRelay;
  #localChosen = false;
  /** Payload types by encoding name (lower case, e.g. `vp8`), from the remote descriptions applied. */
  readonly payloadTypes = new Map<string, Set<number>>();

  constructor(inner: TestPeer, relay: UdpRelay) {
    this.inner = inner;
    this.relay = relay;
  }

  get kind(): TestPeer['kind'] {
    return this.inner.kind;
  }

  createOffer(opts: OfferOptions): Promise<string> {
    return this.inner.createOffer(opts);
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    for (const m of d.sdp.matchAll(/^a=rtpmap:(\d+) ([^/\s]+)/gm)) {
      const name = m[2]!.toLowerCase();
      const set = this.payloadTypes.get(name) ?? new Set<number>();
      set.add(Number(m[1]));
      this.payloadTypes.set(name, set);
    }
    const lines = d.sdp.split(/\r\n/).flatMap((line) => {
      if (!line.startsWith('a=candidate:')) {
        return [line];
      }
      const r = this.#remote(line);
      return r === undefined ? [] : [`a=${r}`];
    });
    await this.inner.setRemoteDescription({ type: d.type, sdp: lines.join('\r\n') });
  }

  createAnswer(): Promise<string> {
    return this.inner.createAnswer();
  }

  async addIceCandidate(c: RemoteCandidate): Promise<void> {
    if (c.candidate === '') {
      await this.inner.addIceCandidate(c);
      return;
    }
    const r = this.#remote(c.candidate);
    if (r !== undefined) {
      await this.inner.addIceCandidate({ ...c, candidate: r });
    }
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.inner.onCandidate((c) => {
      if (c.candidate === '') {
        cb(c);
        return;
      }
      const p = parse(c.candidate);
      if (p === undefined || this.#localChosen) {
        return;
      }
      this.#localChosen = true;
      this.relay.setClientAddress(p.address, p.port);
      cb({ ...c, candidate: withPort(p, this.relay.sfuSidePort) });
    });
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.inner.waitConnected(timeoutMs);
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.inner.waitDataChannelOpen(timeoutMs);
  }

  sendData(text: string): void {
    this.inner.sendData(text);
  }

  onData(cb: (text: string) => void): void {
    this.inner.onData(cb);
  }

  connectionState(): string {
    return this.inner.connectionState();
  }

  async close(): Promise<void> {
    try {
      await this.inner.close();
    } finally {
      this.relay.close();
    }
  }

  /** The SFU's first loopback UDP candidate, pointed at the relay; any other candidate is dropped. */
  #remote(line: string): string | undefined {
    const p = parse(line);
    if (p === undefined) {
      return undefined;
    }
    if (!this.relay.hasSfuAddress) {
      this.relay.setSfuAddress(p.address, p.port);
    }
    return withPort(p, this.relay.clientSidePort);
  }
}
