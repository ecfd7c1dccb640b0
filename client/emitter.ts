/** A minimal typed event emitter (no DOM EventTarget, no Node events): `on` returns the remover. */
export class Emitter<E extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof E, Set<(value: never) => void>>();

  on<K extends keyof E>(event: K, fn: (value: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Calls every listener; a throwing listener does not stop the others. */
  emit<K extends keyof E>(event: K, value: E[K]): void {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (fn as (value: E[K]) => void)(value);
      } catch {
        // a listener's own failure is not the call's
      }
    }
  }

  clear(): void {
    this.#listeners.clear();
  }
}
