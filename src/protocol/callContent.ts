/**
 * Builders for the content of the to-device call events the SFU sends (protocol.md §4.4, §8). Pure: plain
 * objects in, plain JSON-ready objects out. Every event carries the base fields and never a `seq` (§4.4: once a
 * client sees `seq` it buffers events until they run 0, 1, 2, ... per call, and a gap stalls the call for good).
 */

/** Key of MSC3077 stream metadata in invites, answers and negotiate events. */
export const METADATA_KEY = 'org.matrix.msc3077.sdp_stream_metadata';
/** The stable name of the same key; read on incoming events, never written. */
export const METADATA_KEY_STABLE = 'sdp_stream_metadata';
/** Key of the error object that `m.call.hangup` with reason `unknown_error` carries (§3.7, §4.4). */
export const HANGUP_ERROR_KEY = 'org.matrix.msc3898.error';
/** Marks an invite between two foci (§8). */
export const CASCADE_KEY = 'org.matrix.msc3898.cascade';
/** The SFU's `sender_session_id` on every outgoing event, and a valid incoming `dest_session_id`. */
export const SFU_SESSION_ID = 'sfu';
/** `lifetime` of the invites the SFU sends to other foci (§8). */
export const DEFAULT_INVITE_LIFETIME_MS = 60_000;

/** MSC3077 stream objects keyed by msid stream id (§6); passed through as-is here. */
export type StreamMetadata = Record<string, unknown>;

/** §4.5 */
export type HangupReason = 'keep_alive_timeout' | 'user_hangup' | 'ice_failed' | 'unknown_error';
export const HANGUP_REASONS: readonly HangupReason[] = [
  'keep_alive_timeout',
  'user_hangup',
  'ice_failed',
  'unknown_error',
];

/** The `org.matrix.msc3898.error` object: a Matrix errcode and a human-readable explanation. */
export interface HangupError {
  readonly errcode: string;
  readonly error: string;
}

/** What addresses an outgoing event: the session's call and the peer's session id. */
export interface OutgoingSession {
  readonly callId: string;
  readonly confId: string;
  /** This focus's device id: sent as both `party_id` and `device_id`. */
  readonly focusDeviceId: string;
  /** The peer's `sender_session_id` (echoed exactly, §4.4). */
  readonly destSessionId: string;
}

/** §4.4 base fields; `version` is the string "1". */
export type BaseContent = {
  readonly call_id: string;
  readonly conf_id: string;
  readonly party_id: string;
  readonly version: '1';
  readonly device_id: string;
  readonly dest_session_id: string;
  readonly sender_session_id: typeof SFU_SESSION_ID;
};

export type SessionDescription<T extends 'offer' | 'answer'> = { readonly type: T; readonly sdp: string };

export type AnswerContent = BaseContent & {
  readonly answer: SessionDescription<'answer'>;
  readonly 'org.matrix.msc3077.sdp_stream_metadata': StreamMetadata;
};

/** One ICE candidate as sent; `candidate: ""` ends the candidates of its m-line. */
export type OutgoingCandidate = {
  readonly candidate: string;
  readonly sdpMid?: string;
  readonly sdpMLineIndex?: number;
  readonly usernameFragment?: string;
};

export type CandidatesContent = BaseContent & { readonly candidates: readonly OutgoingCandidate[] };

export type HangupContent = BaseContent & {
  readonly reason: HangupReason;
  readonly 'org.matrix.msc3898.error'?: HangupError;
};

export type NegotiateContent = BaseContent & {
  readonly description: SessionDescription<'answer' | 'offer'>;
  readonly 'org.matrix.msc3077.sdp_stream_metadata': StreamMetadata;
};

export type CascadeInviteContent = BaseContent & {
  readonly room_id: string;
  readonly invitee: string;
  readonly lifetime: number;
  readonly offer: SessionDescription<'offer'>;
  readonly 'org.matrix.msc3077.sdp_stream_metadata': StreamMetadata;
  readonly 'org.matrix.msc3898.cascade': true;
};

/** The base fields of every event the SFU sends in a session (§4.4). Never contains `seq`. */
export function baseContent(session: OutgoingSession): BaseContent {
  return {
    call_id: session.callId,
    conf_id: session.confId,
    party_id: session.focusDeviceId,
    version: '1',
    device_id: session.focusDeviceId,
    dest_session_id: session.destSessionId,
    sender_session_id: SFU_SESSION_ID,
  };
}

/** `m.call.answer`: the SDP answer and the streams of the *other* participants (`{}` if none). */
export function answerContent(base: BaseContent, sdp: string, metadata: StreamMetadata): AnswerContent {
  return { ...base, answer: { type: 'answer', sdp }, [METADATA_KEY]: metadata };
}

/** `m.call.candidates`: one batch. Optional candidate fields are copied only when present. */
export function candidatesContent(
  base: BaseContent,
  candidates: readonly OutgoingCandidate[],
): CandidatesContent {
  return { ...base, candidates: candidates.map(copyCandidate) };
}

/** The candidate that ends a batch sequence (§4.4): `{candidate: "", sdpMid, sdpMLineIndex}`. */
export function endOfCandidates(sdpMid: string, sdpMLineIndex: number): OutgoingCandidate {
  return { candidate: '', sdpMid, sdpMLineIndex };
}

/** Used when an `unknown_error` hangup is built without an explicit error (an internal fault). */
export const INTERNAL_HANGUP_ERROR: HangupError = { errcode: 'M_UNKNOWN', error: 'internal error' };

/**
 * `m.call.hangup`. `org.matrix.msc3898.error` is added only for `unknown_error` (the given error, else
 * {@link INTERNAL_HANGUP_ERROR}); for the other reasons `error` is ignored.
 */
export function hangupContent(base: BaseContent, reason: HangupReason, error?: HangupError): HangupContent {
  if (reason !== 'unknown_error') {
    return { ...base, reason };
  }
  const e = error ?? INTERNAL_HANGUP_ERROR;
  return { ...base, reason, [HANGUP_ERROR_KEY]: { errcode: e.errcode, error: e.error } };
}

/** `m.call.negotiate`, only as the reply to a to-device offer: the answer and the current metadata. */
export function negotiateContent(base: BaseContent, sdp: string, metadata: StreamMetadata): NegotiateContent {
  return { ...base, description: { type: 'answer', sdp }, [METADATA_KEY]: metadata };
}

/** `m.call.negotiate` carrying an ICE-restart offer on a link this focus initiated (§8.7); metadata `{}`. */
export function negotiateOfferContent(base: BaseContent, sdp: string): NegotiateContent {
  return { ...base, description: { type: 'offer', sdp }, [METADATA_KEY]: {} };
}

/**
 * `m.call.invite` from this focus to another one (§8). `base` comes from a session whose `destSessionId` is
 * "sfu"; `room_id` is always present on links.
 */
export function cascadeInviteContent(
  base: BaseContent,
  invite: {
    readonly roomId: string;
    readonly invitee: string;
    readonly sdp: string;
    readonly metadata: StreamMetadata;
    readonly lifetimeMs?: number;
  },
): CascadeInviteContent {
  return {
    ...base,
    room_id: invite.roomId,
    invitee: invite.invitee,
    lifetime: invite.lifetimeMs ?? DEFAULT_INVITE_LIFETIME_MS,
    offer: { type: 'offer', sdp: invite.sdp },
    [METADATA_KEY]: invite.metadata,
    [CASCADE_KEY]: true,
  };
}

function copyCandidate(c: OutgoingCandidate): OutgoingCandidate {
  return {
    candidate: c.candidate,
    ...(c.sdpMid !== undefined ? { sdpMid: c.sdpMid } : {}),
    ...(c.sdpMLineIndex !== undefined ? { sdpMLineIndex: c.sdpMLineIndex } : {}),
    ...(c.usernameFragment !== undefined ? { usernameFragment: c.usernameFragment } : {}),
  };
}
