/**
 * The commands a conference accepts from outside (the manager, on behalf of the appservice and sfu.ts): plain
 * data, so they could cross a worker-thread boundary. `Conference.dispatch` checks each with `commandProblem`
 * and runs it on the conference's queue. Sessions are addressed by SessionRef (protocol.md §4.2), never by object.
 */
import type { SessionRef } from './conferencePorts.js';
import type { SessionIds } from './session.js';

export interface CandidateInit {
  readonly candidate: string;
  readonly sdpMid?: string;
  readonly sdpMLineIndex?: number;
  readonly usernameFragment?: string;
}

/**
 * An authorized-room invite (§4.3); `candidates` that arrived before it are added after the answer. `cascade`:
 * an invite from another focus (§8.1), authorized by the foci live memberships name, never a session.
 */
export interface InviteCommand {
  readonly kind: 'invite';
  readonly ids: SessionIds;
  readonly sdp: string;
  readonly metadata: Record<string, unknown>;
  readonly candidates?: readonly CandidateInit[];
  readonly cascade?: boolean;
}

export type ConferenceCommand =
  | InviteCommand
  | {
      readonly kind: 'candidates';
      readonly session: SessionRef;
      readonly candidates: readonly CandidateInit[];
    }
  | { readonly kind: 'selectAnswer'; readonly session: SessionRef; readonly selectedPartyId: string }
  /** The remote focus's answer to a link invite of this focus (§8.1). */
  | { readonly kind: 'answer'; readonly session: SessionRef; readonly sdp: string }
  | {
      readonly kind: 'negotiate';
      readonly session: SessionRef;
      readonly description: { readonly type: 'offer' | 'answer'; readonly sdp: string };
      readonly metadata: Record<string, unknown>;
    }
  | { readonly kind: 'hangup'; readonly session: SessionRef; readonly reason?: string }
  /** A malformed event for a live session: it ends with hangup unknown_error + this error object. */
  | {
      readonly kind: 'malformed';
      readonly session: SessionRef;
      readonly errcode: string;
      readonly error: string;
    }
  /** Re-authorize every session, or those of one device (§3.7). */
  | { readonly kind: 'recheck'; readonly device?: { readonly userId: string; readonly deviceId: string } }
  /** A device flooded invites past their bound (inviteBudget.ts): its session here, if any, is hung up. */
  | { readonly kind: 'inviteFlood'; readonly device: { readonly userId: string; readonly deviceId: string } }
  /** End every session with hangup user_hangup. */
  | { readonly kind: 'shutdown'; readonly reason: string };

export type CommandKind = ConferenceCommand['kind'];

export const COMMAND_KINDS: readonly CommandKind[] = [
  'invite',
  'candidates',
  'selectAnswer',
  'answer',
  'negotiate',
  'hangup',
  'malformed',
  'recheck',
  'inviteFlood',
  'shutdown',
];

export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly error: Error };

/** A command that is not one of the union's shapes (a caller's bug, or a message from elsewhere). */
export class ConferenceCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConferenceCommandError';
  }
}

type Obj = Record<string, unknown>;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function str(o: Obj, key: string): boolean {
  return typeof o[key] === 'string';
}

function sessionRef(x: unknown): boolean {
  return isObj(x) && ['userId', 'deviceId', 'callId', 'senderSessionId'].every((k) => str(x, k));
}

function candidates(x: unknown): boolean {
  return Array.isArray(x) && x.every((c) => isObj(c) && str(c, 'candidate'));
}

function shapeProblem(c: Obj, kind: CommandKind): string | undefined {
  switch (kind) {
    case 'invite': {
      const ids = c['ids'];
      const idKeys = ['userId', 'deviceId', 'callId', 'senderSessionId', 'partyId', 'roomId', 'confId'];
      if (!isObj(ids) || !idKeys.every((k) => str(ids, k))) {
        return `ids must hold the strings ${idKeys.join(', ')}`;
      }
      if (!str(c, 'sdp') || !isObj(c['metadata'])) {
        return 'needs sdp (string) and metadata (object)';
      }
      if (c['cascade'] !== undefined && typeof c['cascade'] !== 'boolean') {
        return 'cascade must be a boolean';
      }
      return c['candidates'] === undefined || candidates(c['candidates'])
        ? undefined
        : 'candidates must be an array of {candidate: string}';
    }
    case 'candidates':
      return candidates(c['candidates']) ? undefined : 'candidates must be an array of {candidate: string}';
    case 'selectAnswer':
      return str(c, 'selectedPartyId') ? undefined : 'selectedPartyId must be a string';
    case 'answer':
      return str(c, 'sdp') ? undefined : 'sdp must be a string';
    case 'negotiate': {
      const d = c['description'];
      const ok = isObj(d) && (d['type'] === 'offer' || d['type'] === 'answer') && str(d, 'sdp');
      return ok && isObj(c['metadata'])
        ? undefined
        : 'needs description {type: offer|answer, sdp} and metadata';
    }
    case 'hangup':
      return c['reason'] === undefined || str(c, 'reason') ? undefined : 'reason must be a string';
    case 'malformed':
      return str(c, 'errcode') && str(c, 'error') ? undefined : 'needs errcode and error (strings)';
    case 'recheck': {
      const d = c['device'];
      return d === undefined || (isObj(d) && str(d, 'userId') && str(d, 'deviceId'))
        ? undefined
        : 'device must be {userId, deviceId}';
    }
    case 'inviteFlood': {
      const d = c['device'];
      return isObj(d) && str(d, 'userId') && str(d, 'deviceId')
        ? undefined
        : 'device must be {userId, deviceId}';
    }
    case 'shutdown':
      return str(c, 'reason') ? undefined : 'reason must be a string';
  }
}

const SESSION_KINDS: ReadonlySet<string> = new Set([
  'candidates',
  'selectAnswer',
  'answer',
  'negotiate',
  'hangup',
  'malformed',
]);

/** Why `cmd` is not a ConferenceCommand (a message naming the kind and the field), or undefined. */
export function commandProblem(cmd: unknown): string | undefined {
  if (!isObj(cmd)) {
    return 'a conference command must be an object';
  }
  const kind = cmd['kind'];
  if (typeof kind !== 'string' || !(COMMAND_KINDS as readonly string[]).includes(kind)) {
    const shown = typeof kind === 'string' ? JSON.stringify(kind) : `of type ${typeof kind}`;
    return `unknown conference command kind ${shown}`;
  }
  if (SESSION_KINDS.has(kind) && !sessionRef(cmd['session'])) {
    return `${kind}: session must be {userId, deviceId, callId, senderSessionId}`;
  }
  const problem = shapeProblem(cmd, kind as CommandKind);
  return problem === undefined ? undefined : `${kind}: ${problem}`;
}
