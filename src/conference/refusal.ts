/** The hangup that refuses a call without a session (protocol.md §3.7): `unknown_error` + error object. */
import { baseContent, hangupContent } from '../protocol/toDevice.js';
import type { SignallingPort } from './ports.js';

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
