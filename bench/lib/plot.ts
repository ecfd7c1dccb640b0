/**
 * SVG plots of bench results with Vega-Lite (rendered headless by Vega, no canvas): for `fanout`, CPU µs per
 * forwarded packet against subscribers, one line per target (our SFU, Janus when measured), with the min–max
 * range over repeats as error bars; for `meeting`, latency (p50/p95/p99) against participants, with the
 * 20 ms limit drawn; for `churn`, the focus's heap and RSS against the cycles; for `soak`, memory, CPU and p99 over time.
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

interface MeetingResult {
  at?: unknown;
  points?: { participants: number; latencyMs: { p50?: number; p95?: number; p99?: number } }[];
  limits?: { latencyP99Ms: number };
}

/** The plot of one meeting result file (latency quantiles against N); undefined without points. */
export async function meetingPlot(result: unknown): Promise<string | undefined> {
  const r = result as MeetingResult;
  const rows: { participants: number; quantile: string; ms: number }[] = [];
  for (const p of r.points ?? []) {
    for (const q of ['p50', 'p95', 'p99'] as const) {
      const ms = p.latencyMs[q];
      if (ms !== undefined) {
        rows.push({ participants: p.participants, quantile: q, ms });
      }
    }
  }
  if (rows.length === 0) {
    return undefined;
  }
  const limit = r.limits?.latencyP99Ms ?? 20;
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `meeting: latency added vs participants (${String(r.at)})`,
    width: 480,
    height: 280,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'participants', type: 'quantitative', title: 'participants' },
          y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
          color: { field: 'quantile', type: 'nominal', title: null },
        },
      },
      {
        data: { values: [{ limit }] },
        mark: { type: 'rule', strokeDash: [4, 4] },
        encoding: { y: { field: 'limit', type: 'quantitative' } },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

interface CascadeResult {
  at?: unknown;
  foci?: number;
  points?: { subsFar: number; cpu: { usPerTrunkPacket?: number; usPerLocalPacket?: number } }[];
}

/**
 * The plot of one cascade result file: at the sending focus, CPU µs per trunk packet and per locally forwarded
 * packet against the subscribers per focus; undefined without figures.
 */
export async function cascadePlot(result: unknown): Promise<string | undefined> {
  const r = result as CascadeResult;
  const rows: PlotRow[] = [];
  for (const p of r.points ?? []) {
    for (const [target, v] of [
      ['per trunk packet', p.cpu.usPerTrunkPacket],
      ['per local packet', p.cpu.usPerLocalPacket],
    ] as const) {
      if (v !== undefined) {
        rows.push({ target, subs: p.subsFar, median: v, min: v, max: v });
      }
    }
  }
  return rows.length === 0
    ? undefined
    : fanoutSvg(rows, `cascade (${r.foci ?? 2} foci): CPU at the sending focus (${String(r.at)})`);
}

/** Lines of `y` against `x`, one per `series`. */
export async function linesSvg(
  rows: readonly { series: string; x: number; y: number }[],
  axes: { x: string; y: string },
  title: string,
): Promise<string> {
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 480,
    height: 280,
    data: { values: rows.map((r) => ({ ...r })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: axes.x },
      y: { field: 'y', type: 'quantitative', title: axes.y },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

interface ChurnResultDoc {
  at?: unknown;
  samples?: { cycles: number; heapMiB: number; rssMiB: number }[];
}

/** The plot of one churn result file: the focus's heap and RSS against the cycles done. */
export async function churnPlot(result: unknown): Promise<string | undefined> {
  const r = result as ChurnResultDoc;
  const rows = (r.samples ?? []).flatMap((s) => [
    { series: 'heap used', x: s.cycles, y: s.heapMiB },
    { series: 'RSS', x: s.cycles, y: s.rssMiB },
  ]);
  return rows.length === 0
    ? undefined
    : linesSvg(rows, { x: 'join/leave cycles', y: 'MiB' }, `churn: the focus's memory (${String(r.at)})`);
}

interface SoakResultDoc {
  at?: unknown;
  participants?: number;
  windows?: {
    atS: number;
    heapMiB: number;
    rssMiB: number;
    sfuCpuPct: number;
    latencyMs: { p99?: number };
  }[];
}

/** The plot of one soak result file: the focus's heap, RSS and CPU, and the clients' p99, over time. */
export async function soakPlot(result: unknown): Promise<string | undefined> {
  const r = result as SoakResultDoc;
  const rows = (r.windows ?? []).flatMap((w) => [
    { series: 'heap used (MiB)', x: w.atS, y: w.heapMiB },
    { series: 'RSS (MiB)', x: w.atS, y: w.rssMiB },
    { series: 'focus CPU (% of a core)', x: w.atS, y: w.sfuCpuPct },
    ...(w.latencyMs.p99 !== undefined ? [{ series: 'p99 latency (ms)', x: w.atS, y: w.latencyMs.p99 }] : []),
  ]);
  return rows.length === 0
    ? undefined
    : linesSvg(
        rows,
        { x: 'seconds', y: 'MiB / % / ms' },
        `soak: ${String(r.participants)} participants (${String(r.at)})`,
      );
}

/** The plot that fits a result file's scenario, if any. */
export async function plotFor(result: unknown): Promise<string | undefined> {
  const scenario = (result as { scenario?: unknown }).scenario;
  return scenario === 'meeting'
    ? meetingPlot(result)
    : scenario === 'fanout'
      ? fanoutPlot(result)
      : scenario === 'cascade'
        ? cascadePlot(result)
        : scenario === 'churn'
          ? churnPlot(result)
          : scenario === 'soak'
            ? soakPlot(result)
            : undefined;
}
