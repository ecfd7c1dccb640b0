/** The membership module's metrics: sfu_memberships{format}, decisions and revocations by reason. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FormatCounts } from './membership/types.js';

export class MembershipMetrics {
  readonly #decisions: Counter<'result' | 'reason'>;
  readonly #revocations: Counter<'reason'>;
  readonly #ignored: Counter<'reason'>;
  #count: () => FormatCounts = () => ({ legacy: 0, memberships: 0, session: 0, sticky: 0 });

  constructor(registry: Registry, eventsIgnored: Counter<'reason'>) {
    const registers = [registry];
    const gauge: Gauge<'format'> = new Gauge({
      name: 'sfu_memberships',
      help: 'Live call memberships known to the SFU, by format (legacy, memberships, session, sticky)',
      labelNames: ['format'],
      registers,
      collect: () => {
        const c = this.#count();
        gauge.set({ format: 'legacy' }, c.legacy);
        gauge.set({ format: 'memberships' }, c.memberships);
        gauge.set({ format: 'session' }, c.session);
        gauge.set({ format: 'sticky' }, c.sticky);
      },
    });
    this.#decisions = new Counter({
      name: 'sfu_authorization_decisions_total',
      help: 'Authorization decisions, by result (allowed, denied) and reason',
      labelNames: ['result', 'reason'],
      registers,
    });
    this.#revocations = new Counter({
      name: 'sfu_membership_revocations_total',
      help: 'Call memberships that stopped naming a focus, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.#ignored = eventsIgnored;
  }

  setCounter(fn: () => FormatCounts): void {
    this.#count = fn;
  }

  decision(result: 'allowed' | 'denied', reason: string): void {
    this.#decisions.inc({ result, reason });
  }

  revoked(reason: string): void {
    this.#revocations.inc({ reason });
  }

  ignored(reason: string, n = 1): void {
    this.#ignored.inc({ reason }, n);
  }
}
