/**
 * The IPC protocol between the wrtc proxy (wrtcPeer.ts, in the test process) and its child (wrtcChild.ts,
 * which owns the real libwebrtc peer). JSON serialization; one peer per child.
 */
import type { LocalCandidate, OfferOptions, RemoteCandidate } from './types.js';

/** The methods the proxy forwards, with their arguments and results. */
export interface WrtcMethods {
  createOffer: (opts: OfferOptions) => string;
  setRemoteDescription: (d: { type: 'offer' | 'answer'; sdp: string }) => void;
  createAnswer: () => string;
  addIceCandidate: (c: RemoteCandidate) => void;
  sendData: (text: string) => void;
  close: () => void;
}
export type WrtcMethod = keyof WrtcMethods;

/** Parent → child. */
export interface WrtcRequest {
  id: number;
  method: WrtcMethod;
  args: unknown[];
}

/** Child → parent: the answer to one request. */
export type WrtcResponse =
  { id: number; result: unknown } | { id: number; error: { name: string; message: string; stack?: string } };

/** Child → parent: what the real peer reports, in the order it happened. */
export type WrtcEvent =
  | { event: 'ready'; data: null }
  | { event: 'candidate'; data: LocalCandidate }
  | { event: 'data'; data: string }
  | { event: 'state'; data: { connectionState: string; dataChannelState: string | null } };

export type WrtcChildMessage = WrtcResponse | WrtcEvent;
