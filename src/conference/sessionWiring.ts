/**
 * Parts of a session's wiring that need only the conference's core (core.ts): the negotiator of its SFU offers
 * (§5.4: offers over the data channel, an answer applied to the peer, a hangup when none comes in time) and the
 * hangup of a flooding client (§5.1 data channel, §5.4 renegotiations, §4.1 invites, §7 RTCP feedback: `unknown_error` with
 * `M_LIMIT_EXCEEDED`, logged once).
 */
import type { ConferenceCore } from './core.js';
import type { DcChannel } from './dcChannel.js';
import { Negotiator } from './negotiator.js';
import type { Session } from './session.js';

export function sessionNegotiator(c: ConferenceCore, s: Session, dc: DcChannel): Negotiator {
  const { clock, metrics, answerTimeoutMs } = c.services;
  return new Negotiator({
    clock,
    answerTimeoutMs,
    createOffer: () => s.peer.offer(),
    sendOffer: (id, sdp) => {
      metrics.renegotiation('sfu', 'offered');
      dc.send({ kind: 'offer', id, sdp, metadata: c.metadataFor(s) });
    },
    rollback: () => s.peer.rollback(),
    applyAnswer: async (sdp) => {
      try {
        await s.peer.acceptAnswer(sdp);
      } finally {
        c.router.sync(s);
      }
    },
    onTimeout: () => {
      metrics.renegotiation('sfu', 'timeout');
      c.later('answer timeout', () =>
        c.end(s, 'answer_timeout', {
          notify: 'unknown_error',
          error: { errcode: 'M_UNKNOWN', error: 'no answer to the SFU offer in time' },
        }),
      );
    },
  });
}

const FLOODS = {
  dc: { reason: 'dc_flood', what: 'data-channel messages' },
  rtcp: { reason: 'rtcp_flood', what: 'RTCP feedback (NACK, PLI, FIR)' },
  renegotiation: { reason: 'renegotiation_flood', what: 'renegotiations (client SDP offers)' },
  invite: { reason: 'invite_flood', what: 'invites from this device' },
} as const;

/** A client flooded past its bound: logged once, then hung up with `M_LIMIT_EXCEEDED`. */
export function floodHangup(c: ConferenceCore, s: Session, kind: keyof typeof FLOODS): void {
  const f = FLOODS[kind];
  c.log.warn({ ...s.logFields, flood: kind }, `${f.what} far over the budget: hanging up`);
  c.later(f.reason, () =>
    c.end(s, f.reason, {
      notify: 'unknown_error',
      error: { errcode: 'M_LIMIT_EXCEEDED', error: `${f.what} far over the budget` },
    }),
  );
}
