/**
 * Micro-benchmark: one link's congestion-control tick (media/link/trunkCcLink.ts → trunkCc.ts → trunkCcSend.ts
 * → forwarding/trunkAllocation.ts) for a link sending 8 audio and 8 video tracks (3 layers, the top one
 * demanded), budget to spare. A link ticks every 100 ms, so its code mostly runs cold (interpreted or
 * baseline-compiled, caches cold): the figure that counts is µs per tick at 10 Hz — 150 ticks 100 ms apart,
 * the last 100 averaged; `hot` (argument) gives the same for 20,000 ticks back to back. Wall time around each
 * call (nothing else runs). `node --import @tapjs/typescript/import bench/micro/linkTick.ts [hot]`
 */
import { TrunkCcLink, type TrunkCcLinkSender, type TrunkCcSend } from '../../src/media/link/trunkCcLink.js';
import { layerTable, type LayerState } from '../../src/simulcast/layerTable.js';

const TRACKS = 8;
const TICK_MS = 100;

const layer = (id: number, rid: string | undefined, kbps: number, width: number): LayerState => ({
  id,
  rid,
  ssrc: 1000 + id,
  restricted: width > 0 ? { width, height: (width * 9) / 16 } : undefined,
  measured: undefined,
  bitrateBps: kbps * 1000,
  active: true,
});
const AUDIO = layerTable([layer(0, undefined, 40, 0)], undefined);
const VIDEO = layerTable(
  [layer(0, 'q', 150, 320), layer(1, 'h', 500, 640), layer(2, 'f', 1500, 1280)],
  undefined,
);

function send(i: number, kind: 'audio' | 'video'): TrunkCcSend {
  const ssrcs = kind === 'audio' ? [4000 + i] : [5000 + i * 3, 5001 + i * 3, 5002 + i * 3];
  return {
    streamId: `s${String(i)}`,
    trackId: `${kind}${String(i)}`,
    kind,
    closed: false,
    source: { selectable: () => (kind === 'audio' ? AUDIO : VIDEO) },
    demanded: kind === 'audio' ? [] : ['f'],
    setPaused: () => undefined,
    ssrcs: () => ssrcs,
  };
}

const sends: TrunkCcSend[] = [];
for (let i = 0; i < TRACKS; i++) {
  sends.push(send(i, 'audio'), send(i, 'video'));
}
const link: TrunkCcLinkSender = {
  rtcpSsrc: 77,
  remoteSsrcs: () => [],
  sendRtcp: () => true,
  videoPayloadType: 96,
};
const cc = new TrunkCcLink({ maxLinkBps: 20_000_000, sends: () => sends, hostStalls: null });
let now = 0;
const timed = (): number => {
  const t0 = performance.now();
  cc.tick((now += TICK_MS), link);
  return performance.now() - t0;
};

if (process.argv[2] === 'hot') {
  let total = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    total += timed();
  }
  console.log(`link tick, back to back: ${((total / n) * 1000).toFixed(1)} µs`);
} else {
  let total = 0;
  let n = 0;
  const iv = setInterval(() => {
    const ms = timed();
    if (++n > 50) {
      total += ms;
    }
    if (n === 150) {
      clearInterval(iv);
      console.log(`link tick at 10 Hz: ${((total / 100) * 1000).toFixed(1)} µs`);
    }
  }, TICK_MS);
}
