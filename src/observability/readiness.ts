/**
 * Named readiness checks: homeserver reachable, matrix (focus user and device set up, room state
 * bootstrapped), media layer up. /readyz is ready when all pass.
 */
export type CheckName = 'homeserver' | 'matrix' | 'media';

export interface CheckState {
  ok: boolean;
  detail: string;
}

export class Readiness {
  readonly #checks = new Map<CheckName, CheckState>();
  readonly #onChange: ((name: CheckName, state: CheckState) => void) | undefined;

  constructor(names: readonly CheckName[], onChange?: (name: CheckName, state: CheckState) => void) {
    this.#onChange = onChange;
    for (const n of names) {
      this.#checks.set(n, { ok: false, detail: 'not checked yet' });
    }
  }

  set(name: CheckName, ok: boolean, detail: string): void {
    const state = { ok, detail };
    this.#checks.set(name, state);
    this.#onChange?.(name, state);
  }

  get ready(): boolean {
    return [...this.#checks.values()].every((c) => c.ok);
  }

  snapshot(): Record<string, CheckState> {
    return Object.fromEntries(this.#checks);
  }
}
