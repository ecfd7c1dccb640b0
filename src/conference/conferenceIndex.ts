/**
 * The manager's side of its conferences: IndexHost keeps the manager's session index from what a conference
 * tells it (ConferenceHost), and sessionCommand turns a to-device event of a live session into its command.
 */
import type { CallEvent } from '../protocol/toDevice.js';
import type { ConferenceCommand, InviteCommand } from './commands.js';
import type { Conference } from './conference.js';
import type { ConferenceRef, SessionRef } from './conferencePorts.js';
import type { ConferenceHost } from './host.js';
import { sessionIndexKey } from './session.js';

/** The manager's open conference for a key (a new one when none is open). */
export interface ConferenceLookup {
  conference(roomId: string, confId: string): Conference;
}

/** What one conference tells the manager: its sessions go into the manager's index, and when it is empty. */
export class IndexHost implements ConferenceHost {
  conf: Conference | undefined;
  readonly #index: Map<string, Conference>;
  readonly #conferences: Map<string, Conference>;

  readonly #current: ConferenceLookup;
  readonly #linkKeys: Set<string>;

  constructor(
    index: Map<string, Conference>,
    conferences: Map<string, Conference>,
    linkKeys: Set<string>,
    current: ConferenceLookup,
  ) {
    this.#index = index;
    this.#conferences = conferences;
    this.#linkKeys = linkKeys;
    this.#current = current;
  }

  async reroute(cmd: InviteCommand): Promise<void> {
    const conf = this.#current.conference(cmd.ids.roomId, cmd.ids.confId);
    if (conf !== this.conf) {
      await conf.dispatch(cmd);
    }
  }

  sessionStarted(_c: ConferenceRef, s: SessionRef): void {
    if (this.conf !== undefined) {
      this.#index.set(sessionIndexKey(s.userId, s.deviceId, s.callId, s.senderSessionId), this.conf);
    }
  }

  sessionEnded(_c: ConferenceRef, s: SessionRef): void {
    const key = sessionIndexKey(s.userId, s.deviceId, s.callId, s.senderSessionId);
    if (this.#index.get(key) === this.conf) {
      this.#index.delete(key);
    }
  }

  linkStarted(c: ConferenceRef, call: SessionRef): void {
    this.sessionStarted(c, call);
    if (this.conf !== undefined) {
      this.#linkKeys.add(sessionIndexKey(call.userId, call.deviceId, call.callId, call.senderSessionId));
    }
  }

  linkEnded(_c: ConferenceRef, call: SessionRef): void {
    const key = sessionIndexKey(call.userId, call.deviceId, call.callId, call.senderSessionId);
    if (this.#index.get(key) === this.conf) {
      this.#index.delete(key);
      this.#linkKeys.delete(key);
    }
  }

  empty(c: ConferenceRef): void {
    const key = JSON.stringify([c.roomId, c.confId]);
    if (this.#conferences.get(key) === this.conf && this.conf?.vacant === true) {
      this.#conferences.delete(key);
    }
  }
}

/** The command for a to-device event of a live session (protocol.md §4.2). */
export function sessionCommand(
  sender: string,
  e: Exclude<CallEvent, { type: 'm.call.invite' }>,
): ConferenceCommand {
  const session: SessionRef = {
    userId: sender,
    deviceId: e.deviceId,
    callId: e.callId,
    senderSessionId: e.senderSessionId,
  };
  switch (e.type) {
    case 'm.call.candidates':
      return { kind: 'candidates', session, candidates: e.candidates };
    case 'm.call.answer':
      return { kind: 'answer', session, sdp: e.sdp };
    case 'm.call.select_answer':
      return { kind: 'selectAnswer', session, selectedPartyId: e.selectedPartyId };
    case 'm.call.negotiate':
      return { kind: 'negotiate', session, description: e.description, metadata: e.metadata ?? {} };
    case 'm.call.hangup':
      return { kind: 'hangup', session, ...(e.reason !== undefined ? { reason: e.reason } : {}) };
  }
}
