/**
 * Conference-layer metrics: sessions, invites by result, ICE connect time, dropped signalling events, links to
 * other foci (state, relinks, RTP packets, bit rate, estimate; the last three read LinkPeerPort.stats on scrape). Conferences
 * see them through ConferenceMetricsPort (methods, no prom-client types).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Dialect } from '../protocol/dc/types.js';
import type { ConferenceMetricsPort, InviteResult, RenegotiationInitiator } from './conferencePorts.js';
import type { LinkState } from './linkPolicyTypes.js';
import type { LinkSnapshot } from './linkRemotes.js';

export class ConferenceMetrics implements ConferenceMetricsPort {
  readonly invites: Counter<'result'>;
  readonly iceConnectSeconds: Histogram;
  readonly signallingIgnored: Counter<'reason'>;
  readonly sessionsEnded: Counter<'reason'>;
  readonly dcMessages: Counter<'dialect' | 'kind' | 'result'>;
  readonly renegotiations: Counter<'initiator' | 'result'>;
  readonly linkRelinks: Counter<'reason'>;
  #sessions: () => number = () => 0;
  #links: () => readonly LinkSnapshot[] = () => [];
  /** RTP packets of link peers already closed. */
  readonly #closedRtp = { in: 0, out: 0 };

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
    const links: Gauge<'state'> = new Gauge({
      name: 'sfu_links',
      help: 'Link calls to other foci (protocol.md §8), by state (inviting, answering, connected, suspended)',
      labelNames: ['state'],
      registers,
      collect: () => {
        const counts: Record<LinkState, number> = { inviting: 0, answering: 0, connected: 0, suspended: 0 };
        for (const l of this.#links()) {
          counts[l.state]++;
        }
        for (const [state, n] of Object.entries(counts)) {
          links.set({ state }, n);
        }
      },
    });
    this.linkRelinks = new Counter({
      name: 'sfu_link_relinks_total',
      help: 'Links given up by liveness and re-invited (§8.7), by reason (alive, media)',
      labelNames: ['reason'],
      registers,
    });
    const packets: Counter<'direction'> = new Counter({
      name: 'sfu_link_rtp_packets_total',
      help: 'RTP packets on links to other foci, by direction (in, out)',
      labelNames: ['direction'],
      registers,
      collect: () => {
        const sum = { ...this.#closedRtp };
        for (const l of this.#links()) {
          sum.in += l.stats.rtpIn;
          sum.out += l.stats.rtpOut;
        }
        packets.reset();
        packets.inc({ direction: 'in' }, sum.in);
        packets.inc({ direction: 'out' }, sum.out);
      },
    });
    const bitrate: Gauge<'direction'> = new Gauge({
      name: 'sfu_link_bitrate_bps',
      help: 'Bit rate on links to other foci over the last second, by direction (in, out), summed over links',
      labelNames: ['direction'],
      registers,
      collect: () => {
        let rateIn = 0;
        let rateOut = 0;
        for (const l of this.#links()) {
          rateIn += l.bitrate.in;
          rateOut += l.bitrate.out;
        }
        bitrate.set({ direction: 'in' }, Math.round(rateIn));
        bitrate.set({ direction: 'out' }, Math.round(rateOut));
      },
    });
    const estimate: Gauge = new Gauge({
      name: 'sfu_link_estimate_bps',
      help: 'Receive-side trunk capacity estimates (§8.5), summed over links that have one',
      registers,
      collect: () => {
        let sum = 0;
        for (const l of this.#links()) {
          sum += l.stats.estimateBps ?? 0;
        }
        estimate.set(Math.round(sum));
      },
    });
    // Per remote focus (its user id; summed over the conferences linked to it): which trunk carries what, which
    // is held back. Only foci with a link now have a series (reset at each scrape).
    const remoteBitrate: Gauge<'remote' | 'direction'> = new Gauge({
      name: 'sfu_link_remote_bitrate_bps',
      help: 'Bit rate on the links to one remote focus over the last second, by remote (its user id) and direction',
      labelNames: ['remote', 'direction'],
      registers,
      collect: () => {
        remoteBitrate.reset();
        for (const [remote, r] of byRemote(this.#links())) {
          remoteBitrate.set({ remote, direction: 'in' }, Math.round(r.in));
          remoteBitrate.set({ remote, direction: 'out' }, Math.round(r.out));
        }
      },
    });
    const remoteEstimate: Gauge<'remote'> = new Gauge({
      name: 'sfu_link_remote_estimate_bps',
      help: 'Receive-side trunk capacity estimates (§8.5) of the links to one remote focus, by remote (its user id)',
      labelNames: ['remote'],
      registers,
      collect: () => {
        remoteEstimate.reset();
        for (const [remote, r] of byRemote(this.#links())) {
          if (r.estimate !== undefined) {
            remoteEstimate.set({ remote }, Math.round(r.estimate));
          }
        }
      },
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

  /** The current link calls of every conference, read on each scrape. */
  setLinkSource(fn: () => readonly LinkSnapshot[]): void {
    this.#links = fn;
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

  linkRelink(reason: string): void {
    this.linkRelinks.inc({ reason });
  }

  linkPeerClosed(rtpIn: number, rtpOut: number): void {
    this.#closedRtp.in += rtpIn;
    this.#closedRtp.out += rtpOut;
  }
}

/** The links' figures summed per remote focus (user id). */
function byRemote(
  links: readonly LinkSnapshot[],
): Map<string, { in: number; out: number; estimate: number | undefined }> {
  const out = new Map<string, { in: number; out: number; estimate: number | undefined }>();
  for (const l of links) {
    const r = out.get(l.remote.userId) ?? { in: 0, out: 0, estimate: undefined };
    r.in += l.bitrate.in;
    r.out += l.bitrate.out;
    if (l.stats.estimateBps !== undefined) {
      r.estimate = (r.estimate ?? 0) + l.stats.estimateBps;
    }
    out.set(l.remote.userId, r);
  }
  return out;
}
