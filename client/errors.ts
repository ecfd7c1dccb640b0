/**
 * What can go wrong while joining or holding a call, as named errors a page can show: each says what happened
 * (`message`), at which step (`step`), the Matrix `errcode` when there was one, and how to fix it (`hint`).
 */

export type CallStep =
  | 'login'
  | 'room'
  | 'focus'
  | 'media'
  | 'membership'
  | 'invite'
  | 'connect'
  | 'subscribe'
  | 'publish'
  | 'leave';

export interface CallErrorOptions {
  errcode?: string | undefined;
  hint: string;
  cause?: unknown;
}

export class CallError extends Error {
  readonly step: CallStep;
  /** The Matrix errcode behind the failure (homeserver or focus), if there was one. */
  readonly errcode: string | undefined;
  /** What the user (or the operator) can do about it. */
  readonly hint: string;

  constructor(step: CallStep, message: string, opts: CallErrorOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CallError';
    this.step = step;
    this.errcode = opts.errcode;
    this.hint = opts.hint;
  }
}

/** The homeserver did not answer (network error, CORS refusal, timeout) or answered something unusable. */
export class HomeserverUnreachableError extends CallError {
  constructor(step: CallStep, message: string, cause?: unknown) {
    super(step, message, {
      hint:
        'Check the homeserver URL and that the homeserver is running; a browser page also needs the ' +
        'homeserver to allow cross-origin requests (CORS).',
      cause,
    });
    this.name = 'HomeserverUnreachableError';
  }
}

/** Password login refused (`M_FORBIDDEN`: wrong user name or password), or an access token was not accepted. */
export class LoginError extends CallError {
  constructor(message: string, errcode: string | undefined, hint: string, cause?: unknown) {
    super('login', message, { errcode, hint, cause });
    this.name = 'LoginError';
  }
}

/** The room could not be joined (`M_FORBIDDEN`: not invited or banned; `M_NOT_FOUND`: no such room or alias). */
export class RoomJoinError extends CallError {
  constructor(message: string, errcode: string | undefined, hint: string, cause?: unknown) {
    super('room', message, { errcode, hint, cause });
    this.name = 'RoomJoinError';
  }
}

/** No usable focus: none announced in `.well-known` and none configured. */
export class NoFocusError extends CallError {
  constructor(message: string) {
    super('focus', message, {
      hint:
        'Announce the SFU in the homeserver domain\'s /.well-known/matrix/client under "org.matrix.msc4143.rtc_foci" ' +
        '({"type": "org.matrix.msc3898", "user_id": ..., "device_id": ...}), or configure a focus in the page.',
    });
    this.name = 'NoFocusError';
  }
}

/** Camera or microphone missing, refused or busy (the browser's getUserMedia failed). */
export class MediaAccessError extends CallError {
  /** The browser's error name (`NotFoundError`, `NotAllowedError`, `NotReadableError`, ...). */
  readonly reason: string;

  constructor(message: string, reason: string, hint: string, cause?: unknown) {
    super('media', message, { hint, cause });
    this.name = 'MediaAccessError';
    this.reason = reason;
  }
}

/** The homeserver refused the call membership: the room's power levels do not let this user join calls. */
export class CallPermissionError extends CallError {
  constructor(message: string, errcode: string | undefined, cause?: unknown) {
    super('membership', message, {
      errcode,
      hint:
        'Ask a room admin to let members start and join calls (the power level of the call member event ' +
        'types, org.matrix.msc3401.call.member / org.matrix.msc4143.rtc.member).',
      cause,
    });
    this.name = 'CallPermissionError';
  }
}

/** The membership could not be written for another reason (e.g. sticky events not supported). */
export class MembershipError extends CallError {
  constructor(message: string, errcode: string | undefined, hint: string, cause?: unknown) {
    super('membership', message, { errcode, hint, cause });
    this.name = 'MembershipError';
  }
}

/** The focus refused the call (hangup carrying `org.matrix.msc3898.error`, e.g. `M_FORBIDDEN`). */
export class FocusRefusedError extends CallError {
  /** The hangup `reason`. */
  readonly reason: string;

  constructor(message: string, errcode: string | undefined, reason: string) {
    super('invite', message, { errcode, hint: refusalHint(errcode, message) });
    this.name = 'FocusRefusedError';
    this.reason = reason;
  }

  /** The refusal an `m.call.hangup` content carries (its `reason`, `org.matrix.msc3898.error`). */
  static fromHangup(h: Record<string, unknown>): FocusRefusedError {
    const reason = typeof h['reason'] === 'string' ? h['reason'] : 'unknown_error';
    const e = h['org.matrix.msc3898.error'];
    const err = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {};
    const errcode = typeof err['errcode'] === 'string' ? err['errcode'] : undefined;
    const text = typeof err['error'] === 'string' ? `: ${err['error']}` : '';
    return new FocusRefusedError(
      `the focus refused the call (${reason}${errcode === undefined ? '' : ` ${errcode}`}${text})`,
      errcode,
      reason,
    );
  }
}

function refusalHint(errcode: string | undefined, message: string): string {
  if (errcode === 'M_LIMIT_EXCEEDED' && /too many invites/.test(message)) {
    return (
      'This device invited the focus faster than it allows (limits.device_invites_per_second): wait a few ' +
      'seconds before joining again.'
    );
  }
  switch (errcode ?? '') {
    case 'M_FORBIDDEN':
      return (
        'The focus found no live call membership of this device naming it: check that the membership reached ' +
        'the room and that the SFU is in the room, then join again.'
      );
    case 'M_LIMIT_EXCEEDED':
      return 'The call is full (limits.max_participants): try again later or ask the operator to raise it.';
    case 'M_INVALID_PARAM':
    case 'M_BAD_JSON':
      return 'The focus could not read the invite: this client and the SFU disagree on the protocol; report it.';
    default:
      return 'Join again; if it keeps failing, the SFU logs say why.';
  }
}

/** The focus did not answer the invite in time. */
export class FocusTimeoutError extends CallError {
  constructor(message: string) {
    super('invite', message, {
      hint:
        'Check that the SFU is running, that its user is in the room and that the focus device named in ' +
        ".well-known (or configured) is the SFU's.",
    });
    this.name = 'FocusTimeoutError';
  }
}

/** ICE/DTLS failed or the connection dropped: no media path to the SFU. */
export class MediaConnectionError extends CallError {
  constructor(message: string, cause?: unknown) {
    super('connect', message, {
      hint:
        "The browser could not reach the SFU's media ports (UDP): check firewalls, and the SFU's public " +
        'address (media.public_ip) if it runs behind NAT.',
      cause,
    });
    this.name = 'MediaConnectionError';
  }
}

/** The signalling data channel did not open, or closed during the call. */
export class DataChannelError extends CallError {
  constructor(message: string, cause?: unknown) {
    super('connect', message, {
      hint: 'The call lost its signalling channel to the SFU: join again.',
      cause,
    });
    this.name = 'DataChannelError';
  }
}

/** The focus ended the call (keep-alive timeout, revocation, shutdown). */
export class CallEndedError extends CallError {
  readonly reason: string;

  constructor(message: string, reason: string, errcode: string | undefined) {
    super('connect', message, {
      errcode,
      hint:
        errcode === 'M_FORBIDDEN'
          ? 'The call membership is gone or the user left the room: join again.'
          : 'Join again.',
    });
    this.name = 'CallEndedError';
    this.reason = reason;
  }
}

/** The focus refused a request on the data channel (e.g. a subscription to a track that is gone); not fatal. */
export class FocusRequestError extends CallError {
  /** The tracks the focus named as failed, if any. */
  readonly failed: readonly { stream_id: string; track_id: string }[];

  constructor(message: string, errcode: string, failed: readonly { stream_id: string; track_id: string }[]) {
    super('subscribe', message, {
      errcode,
      hint:
        errcode === 'M_NOT_FOUND'
          ? 'The stream is not (or no longer) available; it is retried when the participant list changes.'
          : 'The focus refused the request; the SFU logs say why.',
    });
    this.name = 'FocusRequestError';
    this.failed = failed;
  }
}

/** `leave()` finished but some step failed (the membership may linger until it expires). */
export class LeaveError extends CallError {
  readonly failures: readonly string[];

  constructor(failures: readonly string[]) {
    super('leave', `leaving the call was incomplete: ${failures.join('; ')}`, {
      hint:
        'The call membership may stay in the room until it expires (format c: 4 h, format d: 1 h); ' +
        'joining again from this device replaces it.',
    });
    this.name = 'LeaveError';
    this.failures = failures;
  }
}

/** Publishing or unpublishing a stream (screen share) failed: refused by the focus, or no answer in time. */
export class PublishError extends CallError {
  constructor(message: string, errcode: string | undefined, cause?: unknown) {
    super('publish', message, {
      errcode,
      hint:
        errcode === undefined
          ? 'The focus did not answer in time; try again, or leave and join again.'
          : 'The focus refused the stream; see its log for why.',
      cause,
    });
    this.name = 'PublishError';
  }
}
