/**
 * Churn (issue 17): CYCLES join/leave cycles against one SFU — invite → answer → ICE + DTLS connected → data channel
 * open, then either a hangup or a vanish (the peer closed without a word; the device's next invite replaces the
 * session) — on LANES devices at once, each cycle a new session of its device with its own werift peer. Afterwards
 * no session, no open peer and no UDP port of the media range remain, and the process's timers, UDP handles and
 * other handles did not grow between an early point (after the first round) and the end: nothing accumulates per
 * cycle. Heap and RSS (after a forced GC) are reported, not asserted: this process also holds every test client
 * (the harness closes each at the test's end; heap snapshots showed all retained peers were theirs, none the
 * SFU's) and the in-repo homeserver's records. `bench`-sized runs: CHURN_CYCLES=1000.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import t from 'tap';
import { CONF, startCallStack, type CallStack, type TestCallClient } from '../../../harness/callStack.js';
import { udpPortsInRange } from '../../../harness/net.js';
import { MEDIA_PORTS, waitFor } from '../../../harness/stack.js';

const CYCLES = Number(process.env['CHURN_CYCLES'] ?? 200);
const LANES = 4;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Counts of the process's active resources by kind (Timeout, UDPWRAP, TCPSocketWrap, …). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return out;
}

function memory(): { heapMiB: number; rssMiB: number } {
  gc();
  const m = process.memoryUsage();
  return { heapMiB: Math.round(m.heapUsed / 2 ** 17) / 8, rssMiB: Math.round(m.rss / 2 ** 17) / 8 };
}

async function cycle(
  cs: CallStack,
  base: TestCallClient,
  prev: TestCallClient,
  i: number,
): Promise<TestCallClient> {
  await prev.stopSync(); // one client per device reads its inbox
  const c = await cs.sameDevice(base, { sessionId: `churn-${i}` });
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true } });
  await c.waitForAnswer(20_000);
  await c.peer.waitConnected(20_000);
  await c.peer.waitDataChannelOpen(20_000);
  if (i % 2 === 0) {
    await c.hangup();
  }
  await c.peer.close(); // odd cycles: vanished without a hangup
  return c;
}

t.test(
  `churn: ${CYCLES} join/leave cycles (hangup and vanish) leave no session, peer, port, timer or handle behind`,
  { timeout: 600_000 },
  async (t) => {
    // Each device re-invites ≈ 2–3 times a second here, far above a real client's pace (and the default budget).
    const cs = await startCallStack(t, { config: { limits: { device_invites_per_second: 100 } } });
    const bases = await Promise.all(Array.from({ length: LANES }, (_, l) => cs.client(`churn${l}`)));
    const prevs = [...bases];
    let done = 0;
    let early: Record<string, number> | undefined;
    let earlyMemory: ReturnType<typeof memory> | undefined;
    const started = Date.now();
    for (let round = 0; done < CYCLES; round++) {
      const lanes = Math.min(LANES, CYCLES - done);
      await Promise.all(
        Array.from({ length: lanes }, async (_, l) => {
          prevs[l] = await cycle(cs, bases[l]!, prevs[l]!, round * LANES + l);
        }),
      );
      done += lanes;
      if (round === 1) {
        await waitFor(() => cs.sfu.conferences.sessionCount <= LANES, 10_000, 'vanished sessions replaced');
        early = resources();
        earlyMemory = memory();
      }
    }
    // The last odd cycle of each lane vanished: its session ends when the device hangs up for it (as a client
    // that comes back would); then nothing may remain.
    for (const p of prevs) {
      if (cs.sfu.conferences.sessionCount > 0) {
        await p.hangup().catch(() => undefined);
      }
    }
    await waitFor(() => cs.sfu.conferences.sessionCount === 0, 15_000, 'no session');
    await waitFor(() => cs.sfu.media.openResources === 0, 15_000, 'no open peer');
    const end = Date.now() + 10_000;
    let ports = -1;
    while (Date.now() < end) {
      ports = (await udpPortsInRange(MEDIA_PORTS.min, MEDIA_PORTS.max)).length;
      if (ports === 0) {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    t.equal(ports, 0, 'no UDP port of the media range left open');
    await new Promise((r) => setTimeout(r, 2000)); // timers of the last closes run out
    const last = resources();
    const lastMemory = memory();
    t.comment(
      `${done} cycles in ${Math.round((Date.now() - started) / 1000)} s; resources after round 2 ${JSON.stringify(early)}, ` +
        `at the end ${JSON.stringify(last)}; heap ${earlyMemory?.heapMiB} → ${lastMemory.heapMiB} MiB, ` +
        `RSS ${earlyMemory?.rssMiB} → ${lastMemory.rssMiB} MiB`,
    );
    for (const kind of new Set([...Object.keys(early ?? {}), ...Object.keys(last)])) {
      const grew = (last[kind] ?? 0) - (early?.[kind] ?? 0);
      // A per-cycle leak would show as ~CYCLES more; a handful of unrelated handles may come and go.
      t.ok(grew <= 4, `${kind}: ${early?.[kind] ?? 0} → ${last[kind] ?? 0}`);
    }
  },
);
