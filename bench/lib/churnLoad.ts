/**
 * `churn` load (issue 17): join/leave cycles of real werift clients against one focus, as the churn test does
 * (test/integration/signalling/churn.test.ts) but with the focus in its own process. One lane per device: the
 * device's base client publishes its membership once; each cycle is a new session of that device with its own
 * peer — invite → answer → ICE + DTLS connected → data channel open, then a hangup (even cycles) or a vanish (odd:
 * the peer closed without a word; the device's next invite replaces the session). Every wait is bounded (20 s).
 */
import { CONF, type TestCallClient } from '../../harness/callStack.js';
import { loadClient } from './loadClient.js';
import type { Env, UserCreds } from './worker.js';

const WAIT_MS = 20_000;

export interface ChurnProgress {
  /** Cycles completed so far, over every lane. */
  done: number;
  /** Milliseconds each completed cycle took (invite to the data channel open, and its hangup or vanish). */
  cycleMs: number[];
  /** Cycles that failed (their error messages, the first 20). */
  failed: number;
  errors: string[];
}

/** One lane: `cycles` sessions of one device, one after another; the last one's session is hung up at the end. */
async function lane(
  env: Env,
  u: UserCreds,
  lane: number,
  cycles: number,
  progress: ChurnProgress,
  offset: number,
): Promise<void> {
  const base = loadClient(env, u);
  await base.publishMembership(env.roomId, env.focus);
  await base.stopSync();
  let prev: TestCallClient | undefined;
  for (let i = 0; i < cycles; i++) {
    const started = performance.now();
    await prev?.close().catch(() => undefined); // one client per device reads its inbox

    const c = loadClient(env, u, `churn-${lane}-${offset + i}`);
    prev = c;
    try {
      await c.invite({ focus: env.focus, confId: CONF, offerOpts: { dataChannel: true } });
      await c.waitForAnswer(WAIT_MS);
      await c.peer.waitConnected(WAIT_MS);
      await c.peer.waitDataChannelOpen(WAIT_MS);
      if ((offset + i) % 2 === 0) {
        await c.hangup();
      }
      await c.peer.close(); // odd cycles: vanished without a hangup
      progress.cycleMs.push(performance.now() - started);
    } catch (e) {
      progress.failed++;
      if (progress.errors.length < 20) {
        progress.errors.push(e instanceof Error ? e.message : String(e));
      }
    }
    progress.done++;
  }
  // The last cycle may have vanished: its device hangs up for it (as a client that comes back would).
  await prev?.hangup().catch(() => undefined);
  await prev?.close().catch(() => undefined);
  await base.close().catch(() => undefined);
}

/** `cycles` cycles over `users.length` lanes at once (`offset`: the cycle numbering continues across calls). */
export async function churnCycles(
  env: Env,
  users: readonly UserCreds[],
  cycles: number,
  offset: number,
): Promise<ChurnProgress> {
  const progress: ChurnProgress = { done: 0, cycleMs: [], failed: 0, errors: [] };
  const per = Math.ceil(cycles / users.length);
  await Promise.all(
    users.map((u, l) =>
      lane(env, u, l, Math.max(0, Math.min(per, cycles - l * per)), progress, offset + l * per),
    ),
  );
  return progress;
}
