/**
 * What the /status page tests share: paths, the synthetic simulcast layers, a watcher of page errors and the state
 * of a plot (uPlot's data and the non-blank pixels of its canvas), read in the page.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ARTIFACTS = `${ROOT}test-artifacts`;

/** The little of the page's DOM the in-page functions use (Node's types have no DOM; these run in Chromium). */
interface PageNode {
  readonly textContent: string | null;
}
interface PageCanvas extends PageNode {
  readonly width: number;
  readonly height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
declare const document: {
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): ArrayLike<PageNode> & Iterable<PageNode>;
};

/** Page errors and console errors (a CSP violation is one) while the page runs. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') {
      errors.push(`console: ${m.text()}`);
    }
  });
  return errors;
}

/** Points of the plot in `id` (uPlot's x column) and non-blank pixels of its canvas. */
export async function plotState(
  page: Page,
  id: string,
): Promise<{ points: number; series: number; inked: number; last: unknown }> {
  return page.evaluate((id) => {
    const w = globalThis as unknown as {
      statusPage?: { plots: Record<string, { plot?: { data: unknown[][]; series: unknown[] } }> };
    };
    const key = id.replace('plot-', '');
    const plot = w.statusPage?.plots[key]?.plot;
    const canvas = document.querySelector(`#${id} canvas`) as PageCanvas | null;
    let inked = 0;
    if (canvas !== null) {
      const ctx = canvas.getContext('2d');
      const img = ctx?.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; img !== undefined && i < img.length; i += 4) {
        // Not transparent and not white.
        if (img[i + 3]! > 0 && (img[i]! < 240 || img[i + 1]! < 240 || img[i + 2]! < 240)) {
          inked++;
        }
      }
    }
    return {
      points: plot?.data[0]?.length ?? 0,
      series: (plot?.series.length ?? 1) - 1,
      inked,
      last: plot?.data[1]?.at(-1) ?? null,
    };
  }, id);
}

/** Resolves once the plot `key` (tracks, subscriptions, links) has more than 3 points and a value above 0. */
export async function waitPlotData(page: Page, key: string, timeout: number): Promise<void> {
  await page.waitForFunction(
    (key) => {
      const w = globalThis as unknown as {
        statusPage?: { plots: Record<string, { plot?: { data: (number | null)[][] } }> };
      };
      const data = w.statusPage?.plots[key]?.plot?.data;
      return (
        data !== undefined &&
        data[0]!.length > 3 &&
        data.slice(1).some((col) => col.some((v) => (v ?? 0) > 0))
      );
    },
    key,
    { timeout },
  );
}
