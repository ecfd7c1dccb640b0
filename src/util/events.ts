/**
 * A typed event emitter (the mediasoup EnhancedEventEmitter shape): event maps are plain types with tuple
 * payloads, and `safeEmit` keeps one listener's exception from breaking the emitter's caller or the other
 * listeners; the error is re-emitted as 'listenererror'.
 */
import { EventEmitter } from 'node:events';
import { toError } from './errors.js';

export type EventMap = Record<string, unknown[]>;

export class TypedEmitter<E extends EventMap> {
  readonly #ee = new EventEmitter();

  constructor() {
    this.#ee.setMaxListeners(0);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  listenerCount(event: keyof E & string): number {
    return this.#ee.listenerCount(event);
  }

  removeAllListeners(): void {
    this.#ee.removeAllListeners();
  }

  /** Calls every listener; a throwing listener is reported via 'listenererror' and the rest still run. */
  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    const listeners = this.#ee.listeners(event) as ((...a: E[K]) => void)[];
    for (const l of listeners) {
      try {
        l(...args);
      } catch (e) {
        if (event !== 'listenererror' && this.#ee.listenerCount('listenererror') > 0) {
          this.#ee.emit('listenererror', event, toError(e));
        }
      }
    }
    return listeners.length > 0;
  }
}
