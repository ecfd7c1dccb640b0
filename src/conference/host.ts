/**
 * ConferenceHost: what a conference tells its owner (the manager keeps an index of sessions and the map of
 * conferences). Plain methods on an object, no closures cross the boundary.
 */
import type { InviteCommand } from './commands.js';
import type { ConferenceRef, SessionRef } from './conferencePorts.js';

/** Told by the conference, from its queue. */
export interface ConferenceHost {
  sessionStarted(conf: ConferenceRef, session: SessionRef): void;
  sessionEnded(conf: ConferenceRef, session: SessionRef): void;
  /** A link call started (§8.1): its events are addressed like a session's, with sender_session_id "sfu". */
  linkStarted?(conf: ConferenceRef, call: SessionRef): void;
  linkEnded?(conf: ConferenceRef, call: SessionRef): void;
  /** No session is left and no link (the last one ended, or a refused invite left the conference empty). */
  empty(conf: ConferenceRef): void;
  /** An invite that reached this conference after it closed: dispatched to the conference now current for its key. */
  reroute(cmd: InviteCommand): Promise<void>;
}
