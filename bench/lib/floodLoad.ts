/**
 * `flood` load (issue 17): one hostile client against a focus while the meeting's quiet participants are
 * measured (bench/scenarios/flood.ts). The flooder joins like any client (membership, invite, data channel),
 * subscribes to one participant's video at 320×180, and once that video arrives sends, every 10 ms, its share of
 * `perSecond` of one kind:
 * - `nack`: RTCP NACKs, each naming 512 sequence numbers of the stream it receives (512 feedback units);
 * - `pli`: RTCP PLIs for that stream (50 units each);
 * - `dc`: data-channel `subscribe` requests for the same track (each one the SFU must parse and answer).
 * It stops at `floodStop` or when the focus hangs it up; what it sent and when it was hung up (and why) are
 * reported. Every wait is bounded.
 */
import { CallClient, dc } from '../../client/index.js';
import { joinWithMedia, streamOf, subscribe } from '../../harness/mediaCall.js';
import type { WeriftPeer } from '../../harness/peers/weriftPeer.js';
import { nackPacket, pliPacket } from '../../harness/rtcpPackets.js';
import { loadClient } from './loadClient.js';
import type { Env, UserCreds } from './worker.js';

export type FloodKind = 'nack' | 'pli' | 'dc';
export const FLOOD_KINDS: readonly FloodKind[] = ['nack', 'pli', 'dc'];

const WAIT_MS = 20_000;
const TICK_MS = 10;
const NACK_SEQS = 512;

export interface FloodResult {
  kind: FloodKind;
  perSecond: number;
  /** Packets or messages sent. */
  sent: number;
  /** From the first one sent to the hangup (undefined: not hung up while flooding). */
  hungUpAfterMs: number | undefined;
  /** The hangup's `reason` and its error's errcode. */
  hangup: { reason: unknown; errcode: unknown } | undefined;
}

export class Flooder {
  readonly #c: CallClient<WeriftPeer>;
  #timer: NodeJS.Timeout | undefined;
  #startedAt: number | undefined;
  #sent = 0;
  #hungUpAt: number | undefined;
  #hangup: FloodResult['hangup'];
  #kind: FloodKind = 'nack';
  #perSecond = 0;

  private constructor(c: CallClient<WeriftPeer>) {
    this.#c = c;
  }

  /** Joins, subscribes to `owner`'s video and starts the flood once that video arrives. */
  static async start(
    env: Env,
    u: UserCreds,
    owner: string,
    kind: FloodKind,
    perSecond: number,
  ): Promise<Flooder> {
    const c = loadClient(env, u);
    const peer = c.peer;
    const f = new Flooder(c);
    f.#kind = kind;
    f.#perSecond = perSecond;
    await c.publishMembership(env.roomId, env.focus);
    const mc = await joinWithMedia({ focusRef: env.focus }, c, {});
    const s = await streamOf(mc, owner, { video: true });
    const want = [{ stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 }];
    let media = 0;
    peer.onRtp((r) => {
      if (r.kind === 'video') {
        media = r.ssrc;
      }
    });
    await subscribe(mc, want, 'flood-sub');
    const deadline = Date.now() + WAIT_MS;
    while (media === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (media === 0) {
      throw new Error(`flooder: no video from ${owner} within ${WAIT_MS} ms`);
    }
    void c.waitForHangup(600_000).then(
      (h) => {
        f.#hungUpAt = performance.now();
        const err = h['org.matrix.msc3898.error'] as { errcode?: unknown } | undefined;
        f.#hangup = { reason: h['reason'], errcode: err?.errcode };
        f.#stopTimer();
      },
      () => undefined,
    );
    const perTick = (perSecond * TICK_MS) / 1000;
    let owed = 0;
    let n = 0;
    f.#startedAt = performance.now();
    f.#timer = setInterval(() => {
      owed += perTick;
      for (; owed >= 1; owed--) {
        f.#sent++;
        n++;
        if (kind === 'nack') {
          void peer
            .sendRtcp(nackPacket(1, media, (n * NACK_SEQS) & 0xffff, NACK_SEQS))
            .catch(() => undefined);
        } else if (kind === 'pli') {
          void peer.sendRtcp(pliPacket(1, media)).catch(() => undefined);
        } else {
          try {
            peer.sendData(dc.subscribeFrame('A', want, `flood-${n}`));
          } catch {
            f.#stopTimer(); // the data channel closed (hung up)
            return;
          }
        }
      }
    }, TICK_MS);
    return f;
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Waits up to `waitHangupMs` for the hangup (flooding on), then stops, leaves and reports. */
  async stop(waitHangupMs: number): Promise<FloodResult> {
    const deadline = performance.now() + waitHangupMs;
    while (this.#hungUpAt === undefined && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    this.#stopTimer();
    await this.#c.close().catch(() => undefined);
    return {
      kind: this.#kind,
      perSecond: this.#perSecond,
      sent: this.#sent,
      hungUpAfterMs:
        this.#hungUpAt === undefined || this.#startedAt === undefined
          ? undefined
          : Math.round(this.#hungUpAt - this.#startedAt),
      hangup: this.#hangup,
    };
  }
}
