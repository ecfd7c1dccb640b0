/**
 * The call page's E2EE worker (e2ee.ts starts it): every `RTCRtpScriptTransform` the page attaches lands here
 * as an `rtctransform` event with `{operation: 'encrypt' | 'decrypt', kind}`; its frames are encrypted or
 * decrypted with the key the page posted (frameCrypto.ts). Until a key arrives, frames are dropped — nothing
 * leaves in the clear. A frame that does not decrypt is dropped and counted. `{type: 'stats'}` is answered with
 * the counts.
 */
import { decryptFrame, encryptFrame } from './frameCrypto.js';

interface EncodedFrame {
  data: ArrayBuffer;
}
interface Transformer {
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
  readonly options: { operation?: string; kind?: string };
}
interface Scope {
  onrtctransform: ((ev: { transformer: Transformer }) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  postMessage(m: unknown): void;
}

const scope = self as unknown as Scope;
let key: CryptoKey | undefined;
const counts = { encrypted: 0, decrypted: 0, failed: 0, droppedNoKey: 0 };

function pipe(t: Transformer): void {
  const encrypt = t.options.operation === 'encrypt';
  const kind = t.options.kind === 'audio' ? 'audio' : 'video';
  const transform = new TransformStream<EncodedFrame, EncodedFrame>({
    async transform(frame, controller) {
      const k = key;
      if (k === undefined) {
        counts.droppedNoKey++;
        return;
      }
      const data = new Uint8Array(frame.data);
      if (encrypt) {
        frame.data = (await encryptFrame(k, kind, data)).slice().buffer;
        counts.encrypted++;
        controller.enqueue(frame);
        return;
      }
      const plain = await decryptFrame(k, data);
      if (plain === undefined) {
        counts.failed++;
        return;
      }
      frame.data = plain.slice().buffer;
      counts.decrypted++;
      controller.enqueue(frame);
    },
  });
  void t.readable
    .pipeThrough(transform)
    .pipeTo(t.writable)
    .catch(() => undefined);
}

scope.onrtctransform = (ev) => {
  pipe(ev.transformer);
};

scope.onmessage = (ev) => {
  const m = ev.data as { type?: string; key?: CryptoKey };
  if (m.type === 'key' && m.key !== undefined) {
    key = m.key;
  } else if (m.type === 'stats') {
    scope.postMessage({ type: 'stats', ...counts });
  }
};
