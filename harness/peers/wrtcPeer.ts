/**
 * @roamhq/wrtc (libwebrtc in Node) as a test client peer, run in a child process. libwebrtc's native objects
 * can crash a process with SIGSEGV while Node tears it down at exit (node-webrtc issue #636, still present in
 * @roamhq/wrtc 0.10.0), and tap fails a test file whose process dies by a signal even when every assertion
 * passed. So the test process never loads @roamhq/wrtc: each `WrtcPeer` forks one child (wrtcChild.ts) that
 * owns the real peer (wrtcReal.ts: audio/video sources, loopback-only candidates), forwards every call to it
 * over IPC and mirrors its candidates, data and states. `close()` closes the real peer, then kills the child
 * with SIGKILL, so how the child would have exited does not matter.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectionFailure, dataChannelLabel, PeerEvents } from './common.js';
import type { LocalCandidate, OfferOptions, RemoteCandidate, TestPeer } from './types.js';
import type { WrtcChildMessage, WrtcMethod, WrtcMethods, WrtcRequest } from './wrtcProtocol.js';

/**
 * The child runs as TypeScript through tap's loader, like `npm run dev`, without type checking (tsc does that
 * separately): it is ready about 0.5 s after the fork (1.3 s if ts-node type-checks).
 */
const CHILD_PATH = fileURLToPath(new URL('./wrtcChild.ts', import.meta.url));
const CHILD_EXEC_ARGV = ['--import', '@tapjs/typescript/import'];
/** How long `close()` lets the child close its peer before killing it regardless. */
const CLOSE_GRACE_MS = 2_000;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

export class WrtcPeer implements TestPeer {
  readonly kind = 'wrtc' as const;
  readonly #child: ChildProcess;
  readonly #events = new PeerEvents('wrtc peer');
  readonly #pending = new Map<number, Pending>();
  /** Requests made before the child is listening. */
  readonly #queue: WrtcRequest[] = [];
  readonly #exited: Promise<void>;
  #nextId = 1;
  #ready = false;
  #exit: string | undefined;
  #state = 'new';
  #dcState: string | undefined;
  #sendError: Error | undefined;
  #closing: Promise<void> | undefined;

  constructor() {
    const child = fork(CHILD_PATH, [], {
      execArgv: CHILD_EXEC_ARGV,
      env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' },
      serialization: 'json',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    child.on('message', (msg: WrtcChildMessage) => {
      this.#onMessage(msg);
    });
    this.#exited = new Promise<void>((resolve) => {
      // 'error' without 'exit' means the child never started (or could not be signalled after exiting).
      const done = (why: string): void => {
        this.#onExit(why);
        resolve();
      };
      child.once('exit', (code, signal) => {
        done(signal !== null ? `signal ${signal}` : `code ${code ?? '?'}`);
      });
      child.on('error', (err) => {
        if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
          done(err.message);
        }
      });
    });
  }

  async createOffer(opts: OfferOptions): Promise<string> {
    if (dataChannelLabel(opts.dataChannel) !== undefined) {
      this.#dcState ??= 'connecting';
    }
    return this.#call('createOffer', opts);
  }

  setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    return this.#call('setRemoteDescription', { type: d.type, sdp: d.sdp });
  }

  createAnswer(): Promise<string> {
    return this.#call('createAnswer');
  }

  addIceCandidate(c: RemoteCandidate): Promise<void> {
    return this.#call('addIceCandidate', c);
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#events.onCandidate(cb);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'connected',
      timeoutMs,
      () => this.#state === 'connected',
      () => connectionFailure(this.#state),
    );
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'data channel open',
      timeoutMs,
      () => this.#dcState === 'open',
      () => (this.#dcState === 'closed' ? 'data channel closed' : connectionFailure(this.#state)),
    );
  }

  /** Sent in order to the child; a failure there is thrown by the next call. */
  sendData(text: string): void {
    if (this.#sendError !== undefined) {
      throw this.#sendError;
    }
    if (this.#dcState !== 'open') {
      throw new Error(`wrtc peer: data channel is ${this.#dcState ?? 'absent'}`);
    }
    this.#call('sendData', text).catch((err: unknown) => {
      this.#sendError ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  onData(cb: (text: string) => void): void {
    this.#events.onData(cb);
  }

  connectionState(): string {
    return this.#state;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      // A child that is not listening yet has nothing to close: it is killed right away.
      if (this.#exit === undefined && this.#ready) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.#call('close').catch(() => undefined),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, CLOSE_GRACE_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      this.#markClosed();
      if (this.#exit === undefined) {
        this.#child.kill('SIGKILL');
      }
      await this.#exited;
      if (this.#child.connected) {
        this.#child.disconnect();
      }
    })();
    return this.#closing;
  }

  #call<M extends WrtcMethod>(
    method: M,
    ...args: Parameters<WrtcMethods[M]>
  ): Promise<Awaited<ReturnType<WrtcMethods[M]>>> {
    if (this.#exit !== undefined) {
      return Promise.reject(new Error(`wrtc peer: ${method}: child process exited (${this.#exit})`));
    }
    if (this.#closing !== undefined && method !== 'close') {
      return Promise.reject(new Error(`wrtc peer: ${method}: closed`));
    }
    const req: WrtcRequest = { id: this.#nextId++, method, args };
    return new Promise((resolve, reject) => {
      this.#pending.set(req.id, {
        resolve: resolve as (value: unknown) => void,
        reject: (err) => {
          reject(new Error(`wrtc peer: ${method}: ${err.message}`, { cause: err }));
        },
      });
      if (this.#ready) {
        this.#send(req);
      } else {
        this.#queue.push(req);
      }
    });
  }

  #send(req: WrtcRequest): void {
    this.#child.send(req, (err) => {
      if (err !== null) {
        this.#settle(req.id, undefined, err);
      }
    });
  }

  #settle(id: number, result: unknown, err?: Error): void {
    const p = this.#pending.get(id);
    if (p === undefined) {
      return;
    }
    this.#pending.delete(id);
    if (err === undefined) {
      p.resolve(result);
    } else {
      p.reject(err);
    }
  }

  #onMessage(msg: WrtcChildMessage): void {
    if ('id' in msg) {
      if ('error' in msg) {
        const err = new Error(msg.error.message);
        err.name = msg.error.name;
        if (msg.error.stack !== undefined) {
          err.stack = msg.error.stack;
        }
        this.#settle(msg.id, undefined, err);
      } else {
        this.#settle(msg.id, msg.result ?? undefined);
      }
      return;
    }
    switch (msg.event) {
      case 'ready':
        this.#ready = true;
        for (const req of this.#queue.splice(0)) {
          this.#send(req);
        }
        return;
      case 'candidate':
        this.#events.candidate(msg.data);
        return;
      case 'data':
        this.#events.data(msg.data);
        return;
      case 'state':
        if (this.#closing === undefined) {
          this.#state = msg.data.connectionState;
          this.#dcState = msg.data.dataChannelState ?? undefined;
        }
        this.#events.changed();
        return;
    }
  }

  #onExit(why: string): void {
    if (this.#exit !== undefined) {
      return;
    }
    this.#exit = why;
    this.#queue.length = 0;
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id, undefined, new Error(`child process exited (${why})`));
    }
    if (this.#closing === undefined) {
      // Died on its own: every wait fails at once.
      this.#state = 'failed';
      this.#events.changed();
    }
  }

  #markClosed(): void {
    this.#state = 'closed';
    if (this.#dcState !== undefined) {
      this.#dcState = 'closed';
    }
    this.#events.shutdown();
  }
}
