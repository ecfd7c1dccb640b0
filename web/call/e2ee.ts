/**
 * End-to-end encryption for the call page: the key comes from the URL fragment (`key=`, never sent to any
 * server), frames are encrypted in the sender's encoded transform and decrypted in the receiver's
 * (`RTCRtpScriptTransform`, e2eeWorker.ts, frameCrypto.ts). The SFU forwards what it cannot read; pages with
 * another key get frames they cannot decrypt (dropped and counted), so they show no video.
 */
import { deriveKey } from './frameCrypto.js';

export interface E2eeCounts {
  encrypted: number;
  decrypted: number;
  failed: number;
  droppedNoKey: number;
}

interface ScriptTransformCtor {
  new (worker: Worker, options: { operation: string; kind: string }): unknown;
}

export class E2eeUnsupportedError extends Error {
  constructor() {
    super(
      'this browser cannot encrypt media end to end (it has no RTCRtpScriptTransform); open the call without key=',
    );
    this.name = 'E2eeUnsupportedError';
  }
}

export class PageE2ee {
  readonly #worker: Worker;
  readonly #ctor: ScriptTransformCtor;

  private constructor(worker: Worker, ctor: ScriptTransformCtor) {
    this.#worker = worker;
    this.#ctor = ctor;
  }

  /** Derives the key from `passphrase` and starts the worker; throws E2eeUnsupportedError without the API. */
  static async start(passphrase: string): Promise<PageE2ee> {
    const ctor = (globalThis as unknown as { RTCRtpScriptTransform?: ScriptTransformCtor })
      .RTCRtpScriptTransform;
    if (ctor === undefined) {
      throw new E2eeUnsupportedError();
    }
    const key = await deriveKey(passphrase);
    const worker = new Worker(new URL('./e2eeWorker.js', import.meta.url), { type: 'module' });
    worker.postMessage({ type: 'key', key });
    return new PageE2ee(worker, ctor);
  }

  /** Encrypts what `sender` sends (attach before media flows). */
  sender(sender: unknown, kind: string): void {
    (sender as { transform: unknown }).transform = new this.#ctor(this.#worker, {
      operation: 'encrypt',
      kind,
    });
  }

  /** Decrypts what `receiver` receives. */
  receiver(receiver: unknown, kind: string): void {
    (receiver as { transform: unknown }).transform = new this.#ctor(this.#worker, {
      operation: 'decrypt',
      kind,
    });
  }

  /** The worker's frame counts. */
  counts(): Promise<E2eeCounts> {
    return new Promise((resolve) => {
      const on = (ev: MessageEvent): void => {
        const d = ev.data as { type?: string } & E2eeCounts;
        if (d.type === 'stats') {
          this.#worker.removeEventListener('message', on);
          resolve({
            encrypted: d.encrypted,
            decrypted: d.decrypted,
            failed: d.failed,
            droppedNoKey: d.droppedNoKey,
          });
        }
      };
      this.#worker.addEventListener('message', on);
      this.#worker.postMessage({ type: 'stats' });
    });
  }

  close(): void {
    this.#worker.terminate();
  }
}
