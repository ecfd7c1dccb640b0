/**
 * `node --import @tapjs/typescript/import bench/pathCost.ts <file.cpuprofile> <from ms> <to ms>`: the CPU time a
 * focus spent in its trunk send path and in its local forwarding path within one window of a run, from a V8 CPU
 * profile (`BENCH_PROFILE_DIR=… npm run bench -- cascade …`; the window's monotonic ms are in the scenario's
 * output, e.g. `w2 monotonic ms 73388619–73418652`). Inclusive time of each path's entry points (a sample counts
 * once, for the outermost entry point on its stack): the trunk path is `TrunkSend.onPacket` (the layer's packet
 * queued) and `TrunkQueue.flush` (headers, SRTP, socket sends at the end of the turn); the local path is
 * `DownTrack.onPacket` (munging, header, SRTP, socket send). Both paths are measured in the same window, so the
 * machine's load weighs on both alike — unlike the difference of whole-process CPU between two windows, which
 * also moves with everything else the window adds. Divide by the packets each path sent in the window for µs per
 * packet.
 */
import { readFileSync } from 'node:fs';

export interface PathProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

export interface PathProfile {
  nodes: PathProfileNode[];
  startTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export type PathName = 'trunk' | 'local';

/** Which path a frame is an entry point of (by function name and file), if any. */
export function entryPoint(frame: { functionName: string; url: string }): PathName | undefined {
  const file = frame.url.replace(/\.[jt]s$/, '');
  if (frame.functionName === 'onPacket' && file.endsWith('/media/link/trunkSender')) {
    return 'trunk';
  }
  if (frame.functionName === 'flush' && file.endsWith('/media/link/trunkQueue')) {
    return 'trunk';
  }
  if (frame.functionName === 'onPacket' && file.endsWith('/media/downTrack')) {
    return 'local';
  }
  return undefined;
}

/**
 * CPU ms per path within [fromMs, toMs] (the profile's clock, monotonic µs, read as ms), and the busy ms of the
 * whole process there (every sample but idle and program).
 */
export function pathCost(
  p: PathProfile,
  fromMs: number,
  toMs: number,
): { trunkMs: number; localMs: number; busyMs: number; samples: number } {
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    for (const c of n.children ?? []) {
      parent.set(c, n.id);
    }
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const pathOf = new Map<number, PathName | null>();
  const resolve = (id: number): PathName | null => {
    const known = pathOf.get(id);
    if (known !== undefined) {
      return known;
    }
    // The outermost entry point on the stack: look above first.
    const up = parent.get(id);
    const above = up === undefined ? null : resolve(up);
    const node = byId.get(id);
    const own = node === undefined ? undefined : entryPoint(node.callFrame);
    const result = above ?? own ?? null;
    pathOf.set(id, result);
    return result;
  };
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  let t = p.startTime;
  let trunk = 0;
  let local = 0;
  let busy = 0;
  let n = 0;
  for (let i = 0; i < samples.length; i++) {
    const d = deltas[i] ?? 0;
    t += d;
    const ms = t / 1000;
    if (ms < fromMs || ms > toMs) {
      continue;
    }
    const id = samples[i] as number;
    const name = byId.get(id)?.callFrame.functionName;
    // A sample's time is the gap to the next one (the profiler's interval); the first in the window uses its own.
    const dt = (deltas[i + 1] ?? d) / 1000;
    if (name === '(idle)' || name === '(program)') {
      continue;
    }
    busy += dt;
    n++;
    const path = resolve(id);
    if (path === 'trunk') {
      trunk += dt;
    } else if (path === 'local') {
      local += dt;
    }
  }
  return { trunkMs: trunk, localMs: local, busyMs: busy, samples: n };
}

const file = process.argv[2];
if (file !== undefined && process.argv[1]?.endsWith('pathCost.ts') === true) {
  const from = Number(process.argv[3]);
  const to = Number(process.argv[4]);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as PathProfile;
  const r = pathCost(profile, from, to);
  const round = (x: number) => Math.round(x * 10) / 10;
  process.stdout.write(
    `${JSON.stringify({ trunkMs: round(r.trunkMs), localMs: round(r.localMs), busyMs: round(r.busyMs), samples: r.samples })}\n`,
  );
}
