/**
 * SVG plots of bench results with Vega-Lite (rendered headless by Vega, no canvas): CPU µs per forwarded
 * packet against subscribers, one line per target (our SFU, Janus when measured), with the min–max range
 * over repeats as error bars.
 */
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface PlotRow {
  target: string;
  subs: number;
  median: number;
  min: number;
  max: number;
}

export async function fanoutSvg(rows: readonly PlotRow[], title: string): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 280,
    data: { values: rows.map((r) => ({ ...r })) },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'subs', type: 'quantitative', title: 'subscribers' },
          y: { field: 'median', type: 'quantitative', title: 'CPU µs per forwarded packet' },
          color: { field: 'target', type: 'nominal', title: null },
        },
      },
      {
        mark: 'errorbar',
        encoding: {
          x: { field: 'subs', type: 'quantitative' },
          y: { field: 'min', type: 'quantitative', title: 'CPU µs per forwarded packet' },
          y2: { field: 'max' },
          color: { field: 'target', type: 'nominal' },
        },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

interface FanoutResult {
  at?: unknown;
  summary?: { subs: number; usPerForwarded?: { min: number; median: number; max: number } }[];
  janus?: { summary?: { subs: number; usPerForwarded?: { min: number; median: number; max: number } }[] };
}

/** The plot of one fanout result file's summary (and Janus's, when it has one); undefined if empty. */
export async function fanoutPlot(result: unknown): Promise<string | undefined> {
  const r = result as FanoutResult;
  const rows: PlotRow[] = [];
  const add = (target: string, list: FanoutResult['summary']) => {
    for (const s of list ?? []) {
      if (s.usPerForwarded !== undefined) {
        rows.push({ target, subs: s.subs, ...s.usPerForwarded });
      }
    }
  };
  add('matrix-sfu', r.summary);
  add('janus', r.janus?.summary);
  return rows.length === 0
    ? undefined
    : fanoutSvg(rows, `fanout: CPU per forwarded packet (${String(r.at)})`);
}
