/**
 * bench/pathCost: CPU per forwarding path from a V8 CPU profile within a window — a sample counts for the
 * outermost entry point on its stack (trunk: TrunkSend.onPacket, TrunkQueue.flush; local: DownTrack.onPacket),
 * samples outside the window and idle ones are left out, and a frame of another file with the same name is no
 * entry point.
 */
import t from 'tap';
import { entryPoint, pathCost, type PathProfile } from '../../bench/pathCost.js';

const DIST = 'file:///app/dist/src/media';
// root(1) ─ program(2), idle(3), tick(4) ─ flush(5) ─ onPacket of downTrack called from the flush (6)
//                                        ─ DownTrack.onPacket(7) ─ sendSrtp(8)
//                                        ─ TrunkSend.onPacket(9)
//                                        ─ onPacket of another file (10)
const profile: PathProfile = {
  startTime: 1_000_000, // µs: 1,000 ms
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '' }, children: [2, 3, 4] },
    { id: 2, callFrame: { functionName: '(program)', url: '' } },
    { id: 3, callFrame: { functionName: '(idle)', url: '' } },
    { id: 4, callFrame: { functionName: 'tick', url: `${DIST}/peerMedia.js` }, children: [5, 7, 9, 10] },
    { id: 5, callFrame: { functionName: 'flush', url: `${DIST}/link/trunkQueue.js` }, children: [6] },
    { id: 6, callFrame: { functionName: 'onPacket', url: `${DIST}/downTrack.js` } },
    { id: 7, callFrame: { functionName: 'onPacket', url: `${DIST}/downTrack.js` }, children: [8] },
    { id: 8, callFrame: { functionName: 'sendSrtp', url: `${DIST}/srtpSend.js` } },
    { id: 9, callFrame: { functionName: 'onPacket', url: 'file:///repo/src/media/link/trunkSender.ts' } },
    { id: 10, callFrame: { functionName: 'onPacket', url: `${DIST}/other.js` } },
  ],
  // One sample every 1 ms from 1,001 ms on.
  samples: [8, 8, 6, 9, 5, 3, 2, 10, 4, 8, 8],
  timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

t.test('entry points by function and file', async (t) => {
  t.equal(entryPoint({ functionName: 'onPacket', url: `${DIST}/downTrack.js` }), 'local');
  t.equal(entryPoint({ functionName: 'onPacket', url: `${DIST}/link/trunkSender.js` }), 'trunk');
  t.equal(entryPoint({ functionName: 'flush', url: 'file:///r/src/media/link/trunkQueue.ts' }), 'trunk');
  t.equal(entryPoint({ functionName: 'onPacket', url: `${DIST}/other.js` }), undefined);
  t.equal(entryPoint({ functionName: 'flush', url: `${DIST}/downTrack.js` }), undefined);
});

t.test('time per path within a window, outermost entry point, idle left out', async (t) => {
  const all = pathCost(profile, 0, 10_000);
  // Samples: 8,8 → local; 6 (under flush) → trunk; 9 → trunk; 5 → trunk; 3, 2 idle; 10, 4 busy only; 8, 8 local.
  t.equal(all.localMs, 4, 'four local samples of 1 ms');
  t.equal(all.trunkMs, 3, 'three trunk samples, the downTrack call under the flush counted as trunk');
  t.equal(all.busyMs, 9, 'idle and program left out');
  t.equal(all.samples, 9);
  const window = pathCost(profile, 1_003, 1_005.5); // samples at 1,003, 1,004, 1,005 ms
  t.same(window, { trunkMs: 3, localMs: 0, busyMs: 3, samples: 3 }, 'only the samples inside the window');
});
