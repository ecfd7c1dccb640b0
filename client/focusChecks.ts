/**
 * What protocol.md obliges the focus to send (§4.4, §4.5), as pure checks over one received to-device event and
 * the call it belongs to. Each returns the breaches it found (empty = conforming); the call client collects them
 * in `violations`, which tests assert stays empty.
 */
import { isObject } from './ids.js';
import type { FocusRef } from './membership.js';
import { METADATA_KEY } from './metadata.js';

export const HANGUP_REASONS: readonly string[] = [
  'keep_alive_timeout',
  'user_hangup',
  'ice_failed',
  'unknown_error',
];

/** The parts of a call the checks look at. */
export interface CheckedCall {
  readonly confId: string;
  readonly sessionId: string;
  readonly focus: FocusRef;
}

/** §4.4 base fields: from the focus user, echoed exactly, from the focus device, version "1", no `seq`. */
export function checkBase(sender: string, c: Record<string, unknown>, call: CheckedCall): string[] {
  const out: string[] = [];
  const expect = (field: string, want: unknown): void => {
    if (c[field] !== want) {
      out.push(`${field} is ${JSON.stringify(c[field])}, expected ${JSON.stringify(want)}`);
    }
  };
  if (sender !== call.focus.user_id) {
    out.push(`sender ${sender} is not the focus ${call.focus.user_id}`);
  }
  expect('conf_id', call.confId);
  expect('dest_session_id', call.sessionId);
  expect('party_id', call.focus.device_id);
  expect('device_id', call.focus.device_id);
  expect('version', '1');
  if (typeof c['sender_session_id'] !== 'string' || c['sender_session_id'] === '') {
    out.push(`sender_session_id ${JSON.stringify(c['sender_session_id'])} is not a non-empty string`);
  }
  if ('seq' in c) {
    out.push(`carries seq ${JSON.stringify(c['seq'])} (the focus omits seq, §4.4)`);
  }
  return out;
}

/** `{type: <type>, sdp: string}`, or undefined. */
export function descriptionOf(
  v: unknown,
  type: 'offer' | 'answer',
): { type: typeof type; sdp: string } | undefined {
  return isObject(v) && v['type'] === type && typeof v['sdp'] === 'string'
    ? { type, sdp: v['sdp'] }
    : undefined;
}

/** The §4.4 metadata every answer (to-device `m.call.answer` or `m.call.negotiate`) carries. */
export function checkMetadata(c: Record<string, unknown>): string[] {
  return isObject(c[METADATA_KEY]) ? [] : [`${METADATA_KEY} missing or not an object`];
}

/** §4.5: a known reason; `unknown_error` carries `org.matrix.msc3898.error {errcode, error}`. */
export function checkHangup(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  const reason = c['reason'];
  if (typeof reason !== 'string' || !HANGUP_REASONS.includes(reason)) {
    out.push(`reason ${JSON.stringify(reason)} is not one of ${HANGUP_REASONS.join(', ')}`);
  }
  const error = c['org.matrix.msc3898.error'];
  if (
    reason === 'unknown_error' &&
    (!isObject(error) || typeof error['errcode'] !== 'string' || typeof error['error'] !== 'string')
  ) {
    out.push(`unknown_error without org.matrix.msc3898.error {errcode, error}: ${JSON.stringify(error)}`);
  }
  return out;
}

/** A well-formed remote candidate of an `m.call.candidates` list, or undefined. */
export function candidateOf(
  cand: unknown,
): { candidate: string; sdpMid?: string; sdpMLineIndex?: number; usernameFragment?: string } | undefined {
  if (!isObject(cand) || typeof cand['candidate'] !== 'string') {
    return undefined;
  }
  return {
    candidate: cand['candidate'],
    ...(typeof cand['sdpMid'] === 'string' ? { sdpMid: cand['sdpMid'] } : {}),
    ...(typeof cand['sdpMLineIndex'] === 'number' ? { sdpMLineIndex: cand['sdpMLineIndex'] } : {}),
    ...(typeof cand['usernameFragment'] === 'string' ? { usernameFragment: cand['usernameFragment'] } : {}),
  };
}
