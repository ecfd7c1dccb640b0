/**
 * The hangup that refuses a call without a session (protocol.md §3.7): `unknown_error` + error object; and the
 * human-readable text of each authorization refusal.
 */
import { baseContent, hangupContent } from '../protocol/toDevice.js';
import type { AuthDecision, SignallingPort } from './ports.js';

const DENY_MESSAGES: Record<string, string> = {
  unknown_room: 'the SFU does not know this room (is the focus user joined?)',
  not_joined: 'you are not joined to the room',
  left_room: 'you left the room',
  kicked: 'you were kicked from the room',
  banned: 'you are banned from the room',
  call_terminated: 'the call has been terminated',
  no_membership: 'no call membership for you in the room',
  device_not_listed: 'your call membership does not list this device',
  wrong_call: 'your call membership is for another call',
  expired: 'your call membership has expired',
  other_focus: 'no membership names this focus',
};

/** A format (a) membership names another session_id than the call's sender_session_id (§3.1). */
export const OTHER_SESSION = 'the device’s call membership names another session';

export function denyMessage(d: AuthDecision): string {
  return d.allowed ? 'allowed' : (DENY_MESSAGES[d.reason] ?? d.reason);
}

/** Addressing of a call that may not have a session. */
export interface CallAddress {
  userId: string;
  deviceId: string;
  callId: string;
  senderSessionId: string;
  confId: string;
}

export function sendRefusal(
  signal: SignallingPort,
  focusDeviceId: string,
  a: CallAddress,
  errcode: string,
  error: string,
): void {
  const base = baseContent({
    callId: a.callId,
    confId: a.confId,
    focusDeviceId,
    destSessionId: a.senderSessionId,
  });
  void signal.send(
    { userId: a.userId, deviceId: a.deviceId },
    'm.call.hangup',
    hangupContent(base, 'unknown_error', { errcode, error }),
  );
}
