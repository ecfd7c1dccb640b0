/**
 * Bandwidth allocation tables: send totals, the even video share of the estimate after audio, the layer a
 * cap allows, and the bitrate a probe must show fits when the cap holds a track back.
 */
import t from 'tap';
import {
  heldBackBitrate,
  layerIfAllFlowed,
  layerUnderCap,
  sendTotals,
  videoCapBps,
  type LayerWant,
  type StreamRate,
} from '../../../src/forwarding/allocation.js';
import type { Size } from '../../../src/simulcast/layerOrder.js';
import type { SelectableLayer } from '../../../src/simulcast/selectLayer.js';

const low: Size = { width: 320, height: 180 };
const mid: Size = { width: 640, height: 360 };
const high: Size = { width: 1280, height: 720 };

function on(size: Size, bitrateBps?: number): SelectableLayer {
  return { size, active: true, ...(bitrateBps === undefined ? {} : { bitrateBps }) };
}
function off(size: Size, bitrateBps?: number): SelectableLayer {
  return { size, active: false, ...(bitrateBps === undefined ? {} : { bitrateBps }) };
}

const three = [on(low, 150_000), on(mid, 500_000), on(high, 1_500_000)];
const want = (width: number, height: number, muted = false): LayerWant => ({ width, height, muted });
const INF = Number.POSITIVE_INFINITY;

const audio = (rateBps: number): StreamRate => ({ video: false, rateBps });
const video = (rateBps: number): StreamRate => ({ video: true, rateBps });

t.test('sendTotals', async (t) => {
  const rows: [string, StreamRate[], ReturnType<typeof sendTotals>][] = [
    ['nothing', [], { sendBps: 0, audioBps: 0, videoCount: 0 }],
    ['audio only', [audio(40_000), audio(30_000)], { sendBps: 70_000, audioBps: 70_000, videoCount: 0 }],
    [
      'mixed',
      [video(1_000_000), audio(40_000), video(0)],
      { sendBps: 1_040_000, audioBps: 40_000, videoCount: 2 },
    ],
  ];
  for (const [name, streams, wantTotals] of rows) {
    t.strictSame(sendTotals(streams), wantTotals, name);
  }
});

t.test('videoCapBps: even share after audio, no cap while the estimate is unknown', async (t) => {
  // [estimate, audio bps, video count, cap]
  const rows: [number, number, number, number][] = [
    [INF, 40_000, 2, INF],
    [1_000_000, 0, 1, 1_000_000],
    [1_000_000, 40_000, 2, 480_000],
    [1_000_000, 40_000, 3, 320_000],
    [30_000, 40_000, 2, 0.5],
    [1_000_000, 40_000, 0, 960_000],
  ];
  for (const [est, audioBps, videoCount, cap] of rows) {
    const totals = { sendBps: 0, audioBps, videoCount };
    t.equal(videoCapBps(est, totals), cap, `est ${est}, audio ${audioBps}, ${videoCount} video`);
  }
});

t.test('layerUnderCap: the requested size, lowered while over the cap', async (t) => {
  const rows: [string, SelectableLayer[], LayerWant, number, number | undefined][] = [
    ['no cap', three, want(1280, 720), INF, 2],
    ['cap ≤ 0 is no cap', three, want(1280, 720), 0, 2],
    ['NaN is no cap', three, want(1280, 720), Number.NaN, 2],
    ['cap between mid and high', three, want(1280, 720), 600_000, 1],
    ['cap exactly high', three, want(1280, 720), 1_500_000, 2],
    ['cap below everything: the lowest', three, want(1280, 720), 1000, 0],
    ['a small request is not raised by a big cap', three, want(320, 180), 10_000_000, 0],
    ['an unmeasured layer is not lowered', [on(low, 150_000), on(mid), on(high)], want(1280, 720), 1000, 2],
    [
      'a stalled pick falls back below',
      [on(low, 150_000), off(mid, 500_000), on(high)],
      want(640, 360),
      INF,
      0,
    ],
    ['nothing flowing', [off(low), off(mid)], want(640, 360), INF, undefined],
    ['muted: stalled layers count', [off(low), off(mid)], want(640, 360, true), INF, 1],
  ];
  for (const [name, layers, w, cap, idx] of rows) {
    t.equal(layerUnderCap(layers, w, cap), idx, name);
  }
});

t.test('heldBackBitrate: the next flowing, measured layer above the capped one', async (t) => {
  const rows: [string, SelectableLayer[], LayerWant, number, number | undefined][] = [
    ['no cap: nothing held back', three, want(1280, 720), INF, undefined],
    ['cap 0 (none)', three, want(1280, 720), 0, undefined],
    ['held at mid, wants high', three, want(1280, 720), 600_000, 1_500_000],
    ['held at low, wants high: the next step up, not the top', three, want(1280, 720), 200_000, 500_000],
    ['wants mid and gets it', three, want(640, 360), 600_000, undefined],
    ['cap above the wanted layer', three, want(1280, 720), 2_000_000, undefined],
    [
      'the next layer stalled: skipped',
      [on(low, 150_000), off(mid, 500_000), on(high, 1_500_000)],
      want(1280, 720),
      200_000,
      1_500_000,
    ],
    [
      'the cap stops lowering at an unmeasured layer: held there, high is next',
      [on(low, 150_000), on(mid), on(high, 1_500_000)],
      want(1280, 720),
      200_000,
      1_500_000,
    ],
    ['nothing flowing', [off(low, 1), off(mid, 2)], want(640, 360), 1, undefined],
  ];
  for (const [name, layers, w, cap, bps] of rows) {
    t.equal(heldBackBitrate(layers, w, cap), bps, name);
  }
});

t.test('layerIfAllFlowed: the choice as if paused and stalled layers flowed', async (t) => {
  const pausedTop = [on(low, 150_000), on(mid, 500_000), off(high, 1_500_000)];
  const rows: [string, SelectableLayer[], LayerWant, number, number | undefined][] = [
    ['the top paused: still wanted', pausedTop, want(1280, 720), INF, 2],
    ['all paused: still wanted', [off(low), off(mid), off(high)], want(1280, 720), INF, 2],
    ['the cap still holds it down', pausedTop, want(1280, 720), 600_000, 1],
    ['a small request wants the small layer', pausedTop, want(320, 180), INF, 0],
    ['no layers', [], want(1280, 720), INF, undefined],
  ];
  for (const [name, layers, w, cap, idx] of rows) {
    t.equal(layerIfAllFlowed(layers, w, cap), idx, name);
  }
  t.equal(
    layerUnderCap(pausedTop, want(1280, 720), INF),
    1,
    'while the selection itself falls to a flowing one',
  );
});
