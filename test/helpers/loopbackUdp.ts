/**
 * Loopback UDP sockets for the send-path tests (udpBatch, turnSendQueue, srtpSend, trunkQueue): a socket bound to
 * an ephemeral port (closed at a test's teardown or not), a receiver keeping what arrives,
 * and the next `n` datagrams arriving at one (bounded: 5 s, then a rejection saying how many came).
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

export async function bound(type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
  const s = createSocket(type);
  s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(s, 'listening');
  return s;
}

/** Collects `n` datagrams arriving at `rx`. */
export function collect(rx: Socket, n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${got.length} of ${n} datagrams arrived`));
    }, 5000);
    rx.on('message', (m: Buffer) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** What closes a test's sockets when it ends (a tap `Test`). */
interface Teardown {
  teardown(fn: () => void): void;
}

/** `bound`, closed at the test's teardown. */
export async function boundFor(t: Teardown, type: 'udp4' | 'udp6' = 'udp4'): Promise<Socket> {
  const s = await bound(type);
  t.teardown(() => s.close());
  return s;
}

/** A receiver on 127.0.0.1 that keeps every datagram arriving (its port, what came); closed at teardown. */
export async function keptReceiver(t: Teardown): Promise<{ port: number; got: Buffer[] }> {
  const rx = await boundFor(t);
  const got: Buffer[] = [];
  rx.on('message', (m: Buffer) => got.push(m));
  return { port: rx.address().port, got };
}
