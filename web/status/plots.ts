/**
 * A live line plot (uPlot, the browser build served beside the page) of one History: rebuilt when its set of
 * series changes, else fed new data. uPlot puts labels into the DOM as text.
 */
import type { History } from './history.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function axisBps(_u: uPlot, values: number[]): string[] {
  return values.map((v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v)));
}

function axisPx(_u: uPlot, values: number[]): string[] {
  return values.map((v) => `${String(v)}p`);
}

/** What a plot's values are: bit rates (default) or frame heights in pixels (layers). */
export type PlotUnit = 'bps' | 'px';

export class LivePlot {
  readonly #host: HTMLElement;
  readonly #history: History;
  readonly #unit: PlotUnit;
  #plot: uPlot | undefined;
  #keys = '';

  constructor(host: HTMLElement, history: History, unit: PlotUnit = 'bps') {
    this.#host = host;
    this.#history = history;
    this.#unit = unit;
  }

  /** The uPlot instance (tests read its data); undefined before the first series. */
  get plot(): uPlot | undefined {
    return this.#plot;
  }

  update(): void {
    const series = this.#history.series();
    const keys = JSON.stringify(series.map((s) => s.key));
    const data = this.#history.aligned() as uPlot.AlignedData;
    if (keys !== this.#keys || this.#plot === undefined) {
      this.#keys = keys;
      this.#plot?.destroy();
      this.#plot = undefined;
      this.#host.replaceChildren();
      if (series.length === 0) {
        this.#host.append('no data yet');
        return;
      }
      const width = Math.max(320, this.#host.clientWidth || 900);
      this.#plot = new uPlot(
        {
          width,
          height: 220,
          scales: {
            x: { time: true },
            y: { range: (_u, _min, max) => [0, Math.max(this.#unit === 'px' ? 200 : 1000, max * 1.1)] },
          },
          axes: [{}, { values: this.#unit === 'px' ? axisPx : axisBps, size: 60 }],
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: COLORS[i % COLORS.length] ?? '#000',
              width: 2,
              spanGaps: false,
            })),
          ],
        },
        data,
        this.#host,
      );
      return;
    }
    this.#plot.setData(data);
  }
}
