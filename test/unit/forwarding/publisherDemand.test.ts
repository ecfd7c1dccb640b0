/**
 * forwarding/publisherDemand: the REMB a publisher gets from what its layers are wanted for, as tables — a
 * layer's budget by size, a track's need (up to the wanted layer; the lowest when nobody wants it; measured
 * rates above the budget; without simulcast the cap), the REMB of a transport (headroom, the audio allowance,
 * the cap), and the hold (the cap first, rises at once, falls only once the higher needs are old).
 */
import t from 'tap';
import {
  AUDIO_ALLOWANCE_BPS,
  demandRembBps,
  layerBudgetBps,
  REMB_HEADROOM,
  REMB_HOLD_MS,
  RembHold,
  trackNeedBps,
  type DemandLayer,
} from '../../../src/forwarding/publisherDemand.js';

const CAP = 5_000_000;
const size = (w: number, h: number) => ({ width: w, height: h });
const Q: DemandLayer = { size: size(320, 180), bitrateBps: 150_000 };
const H: DemandLayer = { size: size(640, 360), bitrateBps: 500_000 };
const F: DemandLayer = { size: size(1280, 720), bitrateBps: 1_700_000 };

t.test('layerBudgetBps by size (portrait by its shorter side)', async (t) => {
  const rows: [string, DemandLayer['size'], number][] = [
    ['180p', size(320, 180), 200_000],
    ['portrait 180×320', size(180, 320), 200_000],
    ['270p', size(480, 270), 450_000],
    ['360p', size(640, 360), 700_000],
    ['540p', size(960, 540), 1_200_000],
    ['720p', size(1280, 720), 2_500_000],
    ['1080p', size(1920, 1080), 5_000_000],
    ['unknown: as 720p', undefined, 2_500_000],
  ];
  for (const [why, s, want] of rows) {
    t.equal(layerBudgetBps(s), want, why);
  }
});

t.test('trackNeedBps', async (t) => {
  const rows: [string, DemandLayer[], number | undefined, number][] = [
    ['q wanted: q alone, at its budget (measured below it)', [Q, H, F], 0, 200_000],
    ['h wanted: q + h', [Q, H, F], 1, 200_000 + 700_000],
    ['f wanted: all three', [Q, H, F], 2, 200_000 + 700_000 + 2_500_000],
    ['nobody: the lowest layer', [Q, H, F], undefined, 200_000],
    ['a measured rate above the budget counts', [{ ...Q, bitrateBps: 320_000 }, H, F], 0, 320_000],
    ['a paused layer (no rate) at its budget', [Q, { size: H.size }, F], 1, 900_000],
    ['a rank past the top: the top', [Q, H], 5, 900_000],
    ['without simulcast: the cap (nothing to pause)', [F], 0, CAP],
  ];
  for (const [why, layers, wanted, need] of rows) {
    t.equal(trackNeedBps({ layers, wantedRank: wanted }, CAP), need, why);
  }
});

t.test('demandRembBps', async (t) => {
  const q = { layers: [Q, H, F], wantedRank: 0 };
  const f = { layers: [Q, H, F], wantedRank: 2 };
  const rows: [string, Parameters<typeof demandRembBps>, number][] = [
    ['q only, no audio', [[q], false, CAP], Math.round(200_000 * REMB_HEADROOM)],
    ['q only, with audio', [[q], true, CAP], Math.round(200_000 * REMB_HEADROOM) + AUDIO_ALLOWANCE_BPS],
    ['camera at q, screenshare at f', [[q, f], true, CAP], Math.round(3_600_000 * REMB_HEADROOM) + 50_000],
    ['two at f: over the cap, the cap', [[f, f], true, CAP], CAP],
    ['no video track: the audio allowance', [[], true, CAP], AUDIO_ALLOWANCE_BPS],
    ['a small cap wins over the need', [[f], true, 1_000_000], 1_000_000],
  ];
  for (const [why, args, want] of rows) {
    t.equal(demandRembBps(...args), want, why);
  }
  t.ok(
    demandRembBps([q], true, CAP) < 150_000 + 150_000,
    'q alone stays under what a browser needs to add h (q target + h minimum)',
  );
});

t.test('RembHold: the cap first, rises at once, falls once the higher needs are a hold old', async (t) => {
  const h = new RembHold(CAP, 0);
  // [time ms, need, REMB sent]
  const rows: [number, number, number][] = [
    [0, 300_000, CAP],
    [REMB_HOLD_MS - 1000, 300_000, CAP],
    [REMB_HOLD_MS, 300_000, 300_000],
    [REMB_HOLD_MS + 1000, 3_800_000, 3_800_000],
    [REMB_HOLD_MS + 2000, 300_000, 3_800_000],
    [REMB_HOLD_MS + 3000, 1_000_000, 3_800_000],
    [2 * REMB_HOLD_MS + 1000, 300_000, 3_800_000],
    [2 * REMB_HOLD_MS + 1001, 300_000, 1_000_000],
    [2 * REMB_HOLD_MS + 3001, 300_000, 300_000],
  ];
  for (const [now, need, want] of rows) {
    t.equal(h.next(need, now), want, `at ${now} ms, need ${need}`);
  }
});
