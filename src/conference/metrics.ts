/**
 * Conference-layer metrics: sessions, invites by result, ICE connect time, dropped signalling events. Conferences
 * see them through ConferenceMetricsPort (methods, no prom-client types).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Dialect } from '../protocol/dc/types.js';
import type { ConferenceMetricsPort, InviteResult, RenegotiationInitiator } from './conferencePorts.js';

export class ConferenceMetrics implements ConferenceMetricsPort {
  readonly invites: Counter<'result'>;
  readonly iceConnectSeconds: Histogram;
  readonly signallingIgnored: Counter<'reason'>;
  readonly sessionsEnded: Counter<'reason'>;
  readonly dcMessages: Counter<'dialect' | 'kind' | 'result'>;
  readonly renegotiations: Counter<'initiator' | 'result'>;
  #sessions: () => number = () => 0;

  constructor(registry: Registry) {
    const registers = [registry];
    const sessions: Gauge = new Gauge({
      name: 'sfu_sessions',
      help: 'Call sessions (peer connections with clients) currently open',
      registers,
      collect: () => {
        sessions.set(this.#sessions());
      },
    });
    this.invites = new Counter({
      name: 'sfu_invites_total',
      help: 'm.call.invite handled, by result (accepted, renegotiated, replaced, duplicate, refused, failed)',
      labelNames: ['result'],
      registers,
    });
    this.iceConnectSeconds = new Histogram({
      name: 'sfu_ice_connect_seconds',
      help: 'Time from sending m.call.answer to the peer connection reaching connected',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.signallingIgnored = new Counter({
      name: 'sfu_signalling_ignored_total',
      help: 'To-device call events dropped without reply, by reason (unknown_call, unaddressable, unknown_type)',
      labelNames: ['reason'],
      registers,
    });
    this.dcMessages = new Counter({
      name: 'sfu_dc_messages_total',
      help: 'Data-channel messages from clients, by dialect (A, B, unknown), kind and result (ok, error)',
      labelNames: ['dialect', 'kind', 'result'],
      registers,
    });
    this.renegotiations = new Counter({
      name: 'sfu_renegotiations_total',
      help: 'Renegotiations over the data channel, by initiator (sfu, client) and result',
      labelNames: ['initiator', 'result'],
      registers,
    });
    this.sessionsEnded = new Counter({
      name: 'sfu_sessions_ended_total',
      help: 'Call sessions ended, by reason',
      labelNames: ['reason'],
      registers,
    });
  }

  setSessionCounter(fn: () => number): void {
    this.#sessions = fn;
  }

  // --- ConferenceMetricsPort -------------------------------------------------------------------

  invite(result: InviteResult): void {
    this.invites.inc({ result });
  }

  sessionEnded(reason: string): void {
    this.sessionsEnded.inc({ reason });
  }

  iceConnected(seconds: number): void {
    this.iceConnectSeconds.observe(seconds);
  }

  dcMessage(dialect: Dialect | 'unknown', kind: string, result: 'ok' | 'error'): void {
    this.dcMessages.inc({ dialect, kind, result });
  }

  renegotiation(initiator: RenegotiationInitiator, result: string): void {
    this.renegotiations.inc({ initiator, result });
  }
}
