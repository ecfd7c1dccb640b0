/**
 * `joinCall`: from a homeserver URL and a login to a running call, step by step, each step bounded and each
 * failure a named error (errors.ts): log in (password) or take the given token → join the room → find the focus
 * (`.well-known`, else configured) → open camera and microphone → write the call membership (format (c), or (d)
 * sticky events) → invite the focus by to-device with a data channel, camera (3 simulcast layers) and microphone
 * → wait for the answer (or the focus's refusal), the connection and the data channel. A failure after the
 * membership was written hangs up and removes it again before rejecting.
 */
import { BrowserPeer, type FrameTransforms } from './browserPeer.js';
import { Call } from './call.js';
import { CallClient } from './callClient.js';
import { DcSession } from './dc/session.js';
import { aliveFrame } from './dc/write.js';
import {
  CallError,
  CallPermissionError,
  DataChannelError,
  FocusRefusedError,
  FocusTimeoutError,
  HomeserverUnreachableError,
  LoginError,
  MediaAccessError,
  MediaConnectionError,
  MembershipError,
  RoomJoinError,
} from './errors.js';
import { discoverFocus } from './focusDiscovery.js';
import { describeError } from './ids.js';
import { getLocalMedia } from './localMedia.js';
import {
  isPasswordLogin,
  loginWithPassword,
  type Credentials,
  type PasswordLogin,
  type TokenLogin,
} from './login.js';
import { MatrixApi, MatrixHttp, MatrixRequestError, type FetchLike } from './matrix.js';
import type { FocusRef } from './membership.js';
import type { CallPeer } from './peer.js';
import type { Schedule } from './subscriptions.js';
import type { MediaStreamLike } from './webrtcTypes.js';

/** MSC4354 in `/versions` `unstable_features`: the homeserver takes sticky events. */
export const STICKY_FEATURE = 'org.matrix.msc4354';

export interface JoinCallOptions {
  /** The homeserver's client-server base URL. */
  hsUrl: string;
  login: PasswordLogin | TokenLogin;
  roomIdOrAlias: string;
  /** The focus to use when `.well-known` names none (or discovery is off). */
  focus?: FocusRef;
  /** Read `org.matrix.msc4143.rtc_foci` from `<wellKnownBase>/.well-known/matrix/client` (default true). */
  discoverFocus?: boolean;
  /** Default: `hsUrl` (the homeserver domain serves `.well-known` in simple set-ups). */
  wellKnownBase?: string;
  /** `c` (default): per-device state event; `d`: sticky event (MSC4354); `auto`: `d` where `/versions` announces it. */
  membershipFormat?: 'c' | 'd' | 'auto';
  /** The conference id of the invite (default `""`, the room-wide call every member joins). */
  confId?: string;
  /** What to publish (default both). */
  publish?: { audio?: boolean; video?: boolean };
  /** A stream the page already opened (preview); default: `getUserMedia` for what `publish` asks. */
  localStream?: MediaStreamLike;
  /** Replaces the browser peer (tests, Node): then `localStream` and `publish` only shape the offer. */
  peer?: CallPeer;
  /** `RTCConfiguration` of the browser peer (e.g. TURN servers). */
  rtcConfig?: Record<string, unknown>;
  /** Encoded-frame transforms of the browser peer (end-to-end encryption). */
  transforms?: FrameTransforms;
  fetch?: FetchLike;
  timeouts?: {
    /** Each homeserver request (default 10 s). */
    requestMs?: number;
    /** The focus's answer or refusal (default 20 s; a refusal for want of membership comes after ~5 s). */
    answerMs?: number;
    /** ICE + DTLS, then the data channel (default 15 s each). */
    connectMs?: number;
  };
  /** Subscription coalescing window (default 200 ms). */
  coalesceMs?: number;
  schedule?: Schedule;
  monitorMs?: number;
}

/** Joins the call of a room; resolves once media can flow and the data channel is open. */
export async function joinCall(o: JoinCallOptions): Promise<Call> {
  const requestMs = o.timeouts?.requestMs ?? 10_000;
  const creds: Credentials = isPasswordLogin(o.login)
    ? await loginWithPassword(o.hsUrl, o.login, {
        ...(o.fetch === undefined ? {} : { fetch: o.fetch }),
        timeoutMs: requestMs,
      })
    : { userId: o.login.userId, accessToken: o.login.accessToken, deviceId: o.login.deviceId };

  const api = new MatrixApi(new MatrixHttp(o.hsUrl, creds.accessToken, o.fetch));
  let roomId: string;
  let format: 'c' | 'd';
  try {
    roomId = await api.joinRoom(o.roomIdOrAlias).catch((err: unknown) => {
      throw joinFailure(o.roomIdOrAlias, err);
    });
    format = await chooseFormat(api, o.membershipFormat ?? 'c');
  } finally {
    api.http.close();
  }
  const found = await discoverFocus({
    wellKnownBase: o.discoverFocus === false ? undefined : (o.wellKnownBase ?? o.hsUrl),
    configured: o.focus,
    fetch: o.fetch,
    timeoutMs: requestMs,
  });

  const publish = { audio: o.publish?.audio ?? true, video: o.publish?.video ?? true };
  let peer = o.peer;
  if (peer === undefined) {
    const stream = o.localStream ?? (await getLocalMedia(publish));
    peer = new BrowserPeer({
      stream,
      ...(o.rtcConfig === undefined ? {} : { rtcConfig: o.rtcConfig }),
      ...(o.transforms === undefined ? {} : { transforms: o.transforms }),
    });
  }
  const client = new CallClient({
    ...creds,
    hsUrl: o.hsUrl,
    peer,
    ...(o.fetch === undefined ? {} : { fetch: o.fetch }),
  });
  const dc = new DcSession(peer);
  let membership = false;
  try {
    await client
      .publishMembership(roomId, found.focus, format === 'd' ? { sticky: {} } : {})
      .catch((err: unknown) => {
        throw membershipFailure(format, err);
      });
    membership = true;
    await client
      .invite({
        focus: found.focus,
        confId: o.confId ?? '',
        roomId,
        offerOpts: {
          dataChannel: true,
          audio: publish.audio,
          video: publish.video ? { simulcast: true } : false,
        },
      })
      .catch((err: unknown) => {
        throw inviteFailure(err);
      });
    await waitForAnswer(client, o.timeouts?.answerMs ?? 20_000, found.focus);
    const connectMs = o.timeouts?.connectMs ?? 15_000;
    await peer.waitConnected(connectMs).catch((err: unknown) => {
      throw new MediaConnectionError(`no media connection to the focus: ${describeError(err)}`, err);
    });
    await peer.waitDataChannelOpen(connectMs).catch((err: unknown) => {
      throw new DataChannelError(`the data channel to the focus did not open: ${describeError(err)}`, err);
    });
    // Speak dialect A from the start: the focus then answers with ids and expects `alive` (§5.5).
    dc.send(aliveFrame('A'), 'A');
  } catch (err) {
    dc.close();
    const call = client.call;
    if (call !== undefined && call.remoteHangup === undefined) {
      await client.hangup('user_hangup').catch(() => undefined);
    }
    if (membership) {
      await client.leaveMembership(roomId).catch(() => undefined);
    }
    await client.close().catch(() => undefined);
    throw err instanceof CallError
      ? err
      : new CallError('invite', describeError(err), { hint: 'Join again.', cause: err });
  }
  return new Call({
    client,
    dc,
    roomId,
    focus: found.focus,
    membershipFormat: format,
    focusSource: found.source,
    notes: found.notes,
    ...(o.coalesceMs === undefined ? {} : { coalesceMs: o.coalesceMs }),
    ...(o.schedule === undefined ? {} : { schedule: o.schedule }),
    ...(o.monitorMs === undefined ? {} : { monitorMs: o.monitorMs }),
  });
}

async function chooseFormat(api: MatrixApi, want: 'c' | 'd' | 'auto'): Promise<'c' | 'd'> {
  if (want !== 'auto') {
    return want;
  }
  try {
    const v = await api.versions();
    return v.unstableFeatures[STICKY_FEATURE] === true ? 'd' : 'c';
  } catch {
    return 'c';
  }
}

/** The answer, or the focus's refusal (FocusRefusedError, from `waitForAnswer`), or FocusTimeoutError. */
async function waitForAnswer(client: CallClient, timeoutMs: number, focus: FocusRef): Promise<void> {
  try {
    await client.waitForAnswer(timeoutMs);
  } catch (e) {
    if (e instanceof FocusRefusedError) {
      throw e;
    }
    throw new FocusTimeoutError(
      `the focus ${focus.user_id} (${focus.device_id}) did not answer within ${timeoutMs} ms`,
    );
  }
  const h = client.call?.remoteHangup;
  if (h !== undefined) {
    throw FocusRefusedError.fromHangup(h); // answered, then hung up at once
  }
}

function unreachable(err: unknown): boolean {
  return !(err instanceof MatrixRequestError);
}

function joinFailure(room: string, err: unknown): Error {
  if (unreachable(err)) {
    return new HomeserverUnreachableError(
      'room',
      `could not reach the homeserver to join ${room}: ${describeError(err)}`,
      err,
    );
  }
  const e = err as MatrixRequestError;
  if (e.status === 401) {
    return new LoginError(
      `the homeserver did not accept the access token (${e.errcode ?? e.status})`,
      e.errcode,
      'Log in again.',
      err,
    );
  }
  switch (e.errcode ?? '') {
    case 'M_FORBIDDEN':
      return new RoomJoinError(
        `not allowed to join ${room}`,
        e.errcode,
        'Ask a member of the room for an invite.',
        err,
      );
    case 'M_NOT_FOUND':
      return new RoomJoinError(
        `no room ${room}`,
        e.errcode,
        'Check the room id or alias (e.g. #call:example.org).',
        err,
      );
    default:
      return new RoomJoinError(
        `joining ${room} failed: ${e.message}`,
        e.errcode,
        'Check the room id or alias.',
        err,
      );
  }
}

function membershipFailure(format: 'c' | 'd', err: unknown): Error {
  if (unreachable(err)) {
    return new HomeserverUnreachableError(
      'membership',
      `could not write the call membership: ${describeError(err)}`,
      err,
    );
  }
  const e = err as MatrixRequestError;
  if (e.errcode === 'M_FORBIDDEN') {
    return new CallPermissionError(
      `the homeserver refused the call membership: ${e.message}`,
      e.errcode,
      err,
    );
  }
  return new MembershipError(
    `the homeserver refused the call membership (format ${format}): ${e.message}`,
    e.errcode,
    format === 'd'
      ? 'This homeserver may not support sticky events (MSC4354): join with membershipFormat "c".'
      : 'The SFU logs and the homeserver logs say why.',
    err,
  );
}

function inviteFailure(err: unknown): Error {
  if (err instanceof MatrixRequestError) {
    return new CallError('invite', `could not send the invite to the focus: ${err.message}`, {
      errcode: err.errcode,
      hint: 'The homeserver refused the to-device message; its logs say why.',
      cause: err,
    });
  }
  if (/no local (audio|video) track/.test(describeError(err))) {
    return new MediaAccessError(
      describeError(err),
      'NoTrack',
      'Open camera and microphone, or publish less.',
      err,
    );
  }
  return new HomeserverUnreachableError(
    'invite',
    `could not send the invite to the focus: ${describeError(err)}`,
    err,
  );
}
