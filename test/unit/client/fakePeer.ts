/** A scripted CallPeer for the client's unit tests: records what the client does to it, no WebRTC. */
import type { CallPeer, LocalCandidate, OfferOptions, RemoteCandidate } from '../../../client/peer.js';

export class FakePeer implements CallPeer {
  readonly offers: OfferOptions[] = [];
  readonly remote: { type: 'offer' | 'answer'; sdp: string }[] = [];
  readonly candidates: RemoteCandidate[] = [];
  readonly sentData: string[] = [];
  state = 'connected';
  closed = false;
  /** Makes setRemoteDescription reject with this message. */
  refuseRemote: string | undefined;
  #candidateCbs: ((c: LocalCandidate) => void)[] = [];
  #dataCbs: ((text: string) => void)[] = [];
  #answers = 0;

  async createOffer(opts: OfferOptions): Promise<string> {
    this.offers.push(opts);
    return 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\na=msid:s1 a1\r\n';
  }
  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    if (this.refuseRemote !== undefined) {
      throw new Error(this.refuseRemote);
    }
    this.remote.push(d);
  }
  async createAnswer(): Promise<string> {
    return `v=0\r\nanswer-${++this.#answers}\r\n`;
  }
  async addIceCandidate(c: RemoteCandidate): Promise<void> {
    this.candidates.push(c);
  }
  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#candidateCbs.push(cb);
  }
  /** The peer "gathers" a candidate. */
  gather(c: LocalCandidate): void {
    for (const cb of this.#candidateCbs) {
      cb(c);
    }
  }
  async waitConnected(): Promise<void> {}
  async waitDataChannelOpen(): Promise<void> {}
  sendData(text: string): void {
    if (this.closed) {
      throw new Error('closed');
    }
    this.sentData.push(text);
  }
  onData(cb: (text: string) => void): void {
    this.#dataCbs.push(cb);
  }
  /** The focus sends a frame. */
  receive(frame: unknown): void {
    for (const cb of this.#dataCbs) {
      cb(typeof frame === 'string' ? frame : JSON.stringify(frame));
    }
  }
  connectionState(): string {
    return this.state;
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Polls `check` every 5 ms; rejects after `timeoutMs` (generous: no timing is asserted). */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}
