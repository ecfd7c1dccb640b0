/** The call exchange's data: to-device events, invite options, one call's state, what is recorded. */
import type { FocusRef } from './membership.js';
import type { OfferOptions } from './peer.js';

/** A to-device event as `/sync` returns it. */
export interface ToDeviceEvent {
  type: string;
  sender: string;
  content: Record<string, unknown>;
}

export interface InviteOptions {
  focus: FocusRef;
  confId: string;
  roomId?: string;
  callId?: string;
  sessionId?: string;
  /** MSC3077 stream metadata (default: derived from the offer's `a=msid` lines). */
  metadata?: Record<string, unknown>;
  offerOpts: OfferOptions;
  /** `lifetime` (default 60000). */
  lifetime?: number;
  /** Send `m.call.select_answer` naming the focus once the answer is applied (§10; default true). */
  selectAnswer?: boolean;
  /** Merged over the invite content last (negative tests). */
  extra?: Record<string, unknown>;
}

/** One call (call_id) this client placed. */
export interface CallState {
  readonly callId: string;
  readonly confId: string;
  readonly sessionId: string;
  readonly focus: FocusRef;
  readonly roomId: string | undefined;
  readonly selectAnswer: boolean;
  offerSdp: string;
  invites: number;
  answers: number;
  /** Next outgoing `seq`. */
  seq: number;
  answer: Record<string, unknown> | undefined;
  remoteCandidatesEnded: boolean;
  remoteHangup: Record<string, unknown> | undefined;
  localHangup: boolean;
  /** To-device `m.call.negotiate` offers sent and not answered yet. */
  pendingNegotiate: number;
}

/** What the exchange records; the call client exposes these lists. */
export interface ExchangeRecord {
  readonly received: ToDeviceEvent[];
  readonly sent: { type: string; to: FocusRef; content: Record<string, unknown> }[];
  readonly violations: string[];
  readonly errors: string[];
  readonly hangups: Record<string, unknown>[];
  readonly negotiateAnswers: Record<string, unknown>[];
}
