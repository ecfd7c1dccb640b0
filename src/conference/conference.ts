/**
 * One conference `(room_id, conf_id)`: owns its sessions and serialises ALL work on them through one queue,
 * so an invite, a hangup, a revocation and an ICE failure never interleave. Work comes in as typed commands
 * (`dispatch`, commands.ts) or from the conference's own timers and peers (`later`); the to-device call
 * exchange (callExchange.ts), the data-channel ops (dcOps.ts) and the routing of tracks (router.ts) are its
 * parts. It reaches the rest of the SFU only through ports (ports.ts, conferencePorts.ts).
 */
import type { Logger } from 'pino';
import type { StreamMetadata } from '../protocol/dc/types.js';
import { hangupContent } from '../protocol/toDevice.js';
import { toError } from '../util/errors.js';
import { SerialQueue } from '../util/serialQueue.js';
import { ActiveSpeaker } from './activeSpeaker.js';
import { CallExchange, sessionBase } from './callExchange.js';
import {
  commandProblem,
  ConferenceCommandError,
  type CommandResult,
  type ConferenceCommand,
} from './commands.js';
import type { ConferenceRef, SessionRef } from './conferencePorts.js';
import type { ConferenceHost } from './host.js';
import type { ConferenceCore, ConferenceServices, EndOptions } from './core.js';
import { DcChannel } from './dcChannel.js';
import { DcOps } from './dcOps.js';
import { Links, type LinkConference } from './links.js';
import { floodHangup, sessionNegotiator } from './sessionWiring.js';
import type { Dest } from './ports.js';
import { denyMessage, OTHER_SESSION, sendRefusal, type CallAddress } from './refusal.js';
import { snapshotFor } from './metadataView.js';
import { Router } from './router.js';
import { participantKey, type Session } from './session.js';

export interface ConferenceDeps extends ConferenceServices {
  /** Told (from the queue) when a session starts or ends and when the conference is empty. */
  host: ConferenceHost;
  /** Tells this conference apart from another one of the same key (ConferenceRef.instance). */
  instance: number;
}

export class Conference implements ConferenceCore, LinkConference {
  readonly roomId: string;
  readonly confId: string;
  readonly ref: ConferenceRef;
  readonly services: ConferenceServices;
  readonly log: Logger;
  readonly router: Router<Session>;
  readonly #host: ConferenceHost;
  readonly #queue = new SerialQueue();
  readonly #sessions = new Map<string, Session>();
  readonly #speaker: ActiveSpeaker;
  readonly #calls: CallExchange;
  readonly #dcOps: DcOps;
  readonly links: Links;
  #speakerErrors = 0;
  #closed = false;

  constructor(roomId: string, confId: string, deps: ConferenceDeps) {
    const { host, instance, ...services } = deps;
    this.roomId = roomId;
    this.confId = confId;
    this.ref = { roomId, confId, instance };
    this.services = services;
    this.#host = host;
    this.log = deps.log.child({ roomId, confId });
    this.router = new Router<Session>({
      clock: deps.clock,
      log: this.log,
      sessions: () => this.sessions(),
      forwardEnded: () => {
        this.later('forwarded track ended', () => this.router.prune());
      },
    });
    this.#calls = new CallExchange(this);
    this.links = new Links(this);
    this.#dcOps = new DcOps(this);
    this.#speaker = new ActiveSpeaker({
      clock: deps.clock,
      sources: () => this.router.speakerSources(),
      announce: (sp) => {
        for (const x of this.sessions()) {
          x.dc?.send({ kind: 'active_speaker', ...sp });
        }
      },
      onError: (e) => {
        if (this.#speakerErrors++ === 0) {
          this.log.error({ err: toError(e) }, 'active speaker detection failed');
        }
      },
    });
  }

  get size(): number {
    return this.#sessions.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Relayed publications changed (links.ts): clients get new metadata, forwarded tracks are pruned. */
  async publicationsChanged(): Promise<void> {
    this.broadcastMetadata();
    await this.router.prune();
  }

  linkStarted(call: SessionRef): void {
    this.#host.linkStarted?.(this.ref, call);
  }

  linkEnded(call: SessionRef): void {
    this.#host.linkEnded?.(this.ref, call);
  }

  linksGone(): void {
    if (this.#sessions.size === 0) {
      this.#close();
    }
  }

  /** No session and no link (lingering or keeping relayed tracks) is left. */
  get vacant(): boolean {
    return this.#sessions.size === 0 && !this.links.active;
  }

  sessions(): Session[] {
    return [...this.#sessions.values()];
  }

  session(participant: string): Session | undefined {
    return this.#sessions.get(participant);
  }

  /**
   * Runs one command on this conference's queue, after everything queued before it. Never rejects: a command
   * that is not one of the union's shapes resolves `{ok: false}` with a ConferenceCommandError at once (nothing
   * runs), a command that fails resolves `{ok: false}` with its error; both are logged once.
   */
  dispatch(cmd: ConferenceCommand): Promise<CommandResult> {
    const problem = commandProblem(cmd);
    if (problem !== undefined) {
      const error = new ConferenceCommandError(problem);
      this.log.error({ err: error }, 'conference command refused');
      return Promise.resolve({ ok: false, error });
    }
    return this.#queue
      .push(() => this.#execute(cmd))
      .then(
        (): CommandResult => ({ ok: true }),
        (e: unknown): CommandResult => {
          const error = toError(e);
          this.log.error({ err: error, what: cmd.kind }, 'conference task failed');
          return { ok: false, error };
        },
      );
  }

  /** Resolves once the queue is empty, including work queued meanwhile (at most 100 rounds; shutdown, tests). */
  async idle(): Promise<void> {
    for (let round = 0; round < 100; round++) {
      await this.#queue.drain();
      await Promise.resolve();
      if (this.#queue.pending === 0) {
        return;
      }
    }
  }

  /** Queues the conference's own follow-up work (timers, peer and data-channel events); errors are logged. */
  later(what: string, task: () => void | Promise<void>): void {
    void this.#queue.push(task).catch((e: unknown) => {
      this.log.error({ err: toError(e), what }, 'conference task failed');
    });
  }

  async #execute(cmd: ConferenceCommand): Promise<void> {
    if ('session' in cmd && this.links.has(cmd.session)) {
      // A link call's event (its address has sender_session_id "sfu", §8.1).
      await this.links.command(cmd.session, cmd);
      return;
    }
    switch (cmd.kind) {
      case 'invite':
        if (this.#closed) {
          // Queued before the conference emptied and closed: the owner hands it to the current conference.
          await this.#host.reroute(cmd);
          return;
        }
        await (cmd.cascade === true
          ? this.links.invite(cmd.ids, cmd.sdp, cmd.candidates ?? [])
          : this.#calls.invite(cmd.ids, cmd.sdp, cmd.metadata));
        if (this.vacant) {
          // Refused (or a replacement that did not start) and nobody else here: close.
          this.#close();
          return;
        }
        if (cmd.cascade !== true && cmd.candidates !== undefined && cmd.candidates.length > 0) {
          await this.#withSession(cmd.ids, (s) => this.#calls.candidates(s, cmd.candidates ?? []));
        }
        return;
      case 'candidates':
        await this.#withSession(cmd.session, (s) => this.#calls.candidates(s, cmd.candidates));
        return;
      case 'selectAnswer':
        await this.#withSession(cmd.session, (s) => this.#calls.selectAnswer(s, cmd.selectedPartyId));
        return;
      case 'answer':
        // Only a link this focus initiated receives an answer; its call is gone.
        return;
      case 'negotiate':
        await this.#withSession(cmd.session, (s) => this.#calls.negotiate(s, cmd.description, cmd.metadata));
        return;
      case 'hangup':
        await this.#withSession(cmd.session, (s) => this.#calls.hangup(s, cmd.reason));
        return;
      case 'malformed':
        await this.#withSession(cmd.session, (s) =>
          this.end(s, 'malformed_event', {
            notify: 'unknown_error',
            error: { errcode: cmd.errcode, error: cmd.error },
          }),
        );
        return;
      case 'recheck':
        await this.#recheck(cmd.device);
        this.links.recheck();
        return;
      case 'inviteFlood':
        for (const s of this.sessions()) {
          if (s.ids.userId === cmd.device.userId && s.ids.deviceId === cmd.device.deviceId) {
            floodHangup(this, s, 'invite');
          }
        }
        return;
      case 'shutdown':
        await this.#shutdown(cmd.reason);
        return;
    }
  }

  /** Runs `fn` on the live session `ref` addresses; nothing when it ended meanwhile. */
  async #withSession(ref: SessionRef, fn: (s: Session) => Promise<void>): Promise<void> {
    const s = this.#find(ref);
    if (s !== undefined) {
      await fn(s);
    }
  }

  /** The live session `ref` addresses (same device, call and sender session). */
  #find(ref: SessionRef): Session | undefined {
    const s = this.#sessions.get(participantKey(ref.userId, ref.deviceId));
    return s?.ids.callId === ref.callId && s.ids.senderSessionId === ref.senderSessionId ? s : undefined;
  }

  /**
   * Re-authorizes the sessions of `device` (all when undefined); hangs up those no longer allowed (§3.7) and,
   * for format (a) memberships, those whose sender_session_id is not the membership's session_id any more (§3.1).
   */
  async #recheck(device: { userId: string; deviceId: string } | undefined): Promise<void> {
    const { oracle, clock, focus } = this.services;
    const now = clock.now();
    for (const s of this.sessions()) {
      if (device !== undefined && (s.ids.userId !== device.userId || s.ids.deviceId !== device.deviceId)) {
        continue;
      }
      const d = oracle.authorize(
        { roomId: this.roomId, userId: s.ids.userId, deviceId: s.ids.deviceId, confId: this.confId, focus },
        now,
      );
      if (!d.allowed) {
        await this.end(s, `revoked:${d.reason}`, {
          notify: 'unknown_error',
          error: { errcode: 'M_FORBIDDEN', error: denyMessage(d) },
        });
      } else if (d.sessionId !== undefined && d.sessionId !== s.ids.senderSessionId) {
        // Format (a): the device announced a new session_id, so this older session is over (§3.1).
        await this.end(s, 'membership_session_changed', {
          notify: 'unknown_error',
          error: { errcode: 'M_FORBIDDEN', error: OTHER_SESSION },
        });
      }
    }
  }

  /** Ends every session (shutdown): hangup user_hangup. */
  async #shutdown(reason: string): Promise<void> {
    for (const s of this.sessions()) {
      await this.end(s, reason, { notify: 'user_hangup' });
    }
    this.links.shutdown();
    this.#closed = true;
    this.#speaker.stop();
  }

  /** Refuses a call that has no session (or whose session is gone): hangup unknown_error + error object. */
  refuse(a: CallAddress, errcode: string, error: string): void {
    sendRefusal(this.services.signal, this.services.focus.device_id, a, errcode, error);
  }

  async end(s: Session, reason: string, opts: EndOptions): Promise<void> {
    if (s.state === 'closed') {
      return;
    }
    const { signal, focus, metrics, clock } = this.services;
    s.state = 'closed';
    if (this.#sessions.get(s.participant) === s) {
      this.#sessions.delete(s.participant);
    }
    this.router.remove(s);
    this.#host.sessionEnded(this.ref, s.ids);
    if (opts.notify !== null) {
      void signal.send(
        this.dest(s),
        'm.call.hangup',
        hangupContent(sessionBase(s, focus.device_id), opts.notify, opts.error),
      );
    }
    s.dc?.stop();
    s.negotiator?.close();
    await s.peer.close();
    this.broadcastMetadata();
    await this.router.prune();
    metrics.sessionEnded(reason.split(':')[0] ?? reason);
    this.log.info(
      { ...s.logFields, reason, hangup: opts.notify, durationMs: clock.now() - s.createdAt },
      'session ended',
    );
    if (this.#sessions.size === 0 && opts.replacing !== true) {
      this.#close();
    }
    this.links.recheck();
  }

  /** No session is left: stop the speaker timer and let the owner forget this conference. */
  #close(): void {
    if (this.#closed || this.links.active) {
      return;
    }
    this.links.shutdown();
    this.#closed = true;
    this.#speaker.stop();
    this.#host.empty(this.ref);
  }

  dest(s: Session): Dest {
    return { userId: s.ids.userId, deviceId: s.ids.deviceId };
  }

  metadataFor(s: Session): StreamMetadata {
    return this.router.availableTo(s);
  }

  broadcastMetadata(except?: Session): void {
    for (const x of this.sessions()) {
      this.router.applyPublisherState(x);
    }
    const publishers = this.router.publishers();
    for (const x of this.sessions()) {
      if (x !== except && x.dc !== undefined) {
        x.dc.send({ kind: 'metadata', metadata: snapshotFor(x.participant, publishers) });
      }
    }
    this.links.localChanged();
  }

  adopt(s: Session): void {
    this.#sessions.set(s.participant, s);
    this.#host.sessionStarted(this.ref, s.ids);
    this.links.recheck();
    this.#speaker.start();
    this.#attachDataChannel(s);
    s.peer.on('state', (state) => {
      if (state === 'connected' && s.connectedAt === undefined) {
        s.connectedAt = this.services.clock.now();
        s.state = s.state === 'closed' ? 'closed' : 'active';
        if (s.answeredAt !== undefined) {
          this.services.metrics.iceConnected((s.connectedAt - s.answeredAt) / 1000);
        }
        this.log.debug(s.logFields, 'peer connected');
      } else if (state === 'failed') {
        this.later('ice failed', () => this.end(s, 'ice_failed', { notify: 'ice_failed' }));
      }
    });
  }

  #attachDataChannel(s: Session): void {
    const { clock, limits, keepalive, metrics } = this.services;
    const dc = new DcChannel({
      clock,
      limits: {
        maxBytes: limits.max_dc_message_bytes,
        maxListEntries: limits.max_tracks_per_subscribe,
        messagesPerSecond: limits.dc_messages_per_second,
      },
      keepalive,
      write: (text) => s.peer.send(text),
      onMessage: (msg) => {
        this.later('dc message', () => this.#dcOps.handle(s, msg));
      },
      onTimeout: () => {
        this.later('keep-alive timeout', () =>
          this.end(s, 'keep_alive_timeout', { notify: 'keep_alive_timeout' }),
        );
      },
      onFlood: () => {
        floodHangup(this, s, 'dc');
      },
      onDialectChange: () => {
        this.later('dialect change', () => {
          s.dc?.send({ kind: 'metadata', metadata: this.metadataFor(s) });
        });
      },
      count: (dialect, kind, result) => {
        metrics.dcMessage(dialect, kind, result);
      },
    });
    s.dc = dc;
    s.negotiator = sessionNegotiator(this, s, dc);
    s.peer.on('flood', () => {
      floodHangup(this, s, 'rtcp');
    });
    s.peer.on('dcmessage', (frame) => {
      dc.onFrame(typeof frame === 'string' ? frame : new Uint8Array(frame));
    });
    s.peer.on('dcopen', () => {
      this.later('dc open', () => {
        dc.send({ kind: 'metadata', metadata: this.metadataFor(s) });
        const speaker = this.#speaker.current;
        if (speaker !== undefined) {
          dc.send({ kind: 'active_speaker', ...speaker });
        }
      });
    });
  }
}
