/**
 * The `/status` page: polls `status?format=json` every 1.5 s, keeps the last 5 minutes of bit rates in memory
 * (history.ts) and draws them as live plots (plots.ts: per published track, per subscription, per link
 * direction), with tables of the conferences, participants, tracks, subscriptions and links. Every value from
 * the document reaches the DOM as text (dom.ts).
 */
import { bitrate, count, duration, el, omitted, short, table, type Child } from './dom.js';
import { History } from './history.js';
import { LivePlot } from './plots.js';
import type { Conference, Layer, Link, Participant, Status, Track } from './types.js';

const POLL_MS = 1500;
const WINDOW_MS = 5 * 60 * 1000;

type Values = Map<string, { label: string; value: number }>;

function byId(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (e === null) {
    throw new Error(`#${id} missing`);
  }
  return e;
}

const histories = {
  tracks: new History(WINDOW_MS),
  subscriptions: new History(WINDOW_MS),
  links: new History(WINDOW_MS),
  layers: new History(WINDOW_MS),
};
const plots = {
  tracks: new LivePlot(byId('plot-tracks'), histories.tracks),
  subscriptions: new LivePlot(byId('plot-subscriptions'), histories.subscriptions),
  links: new LivePlot(byId('plot-links'), histories.links),
  layers: new LivePlot(byId('plot-layers'), histories.layers, 'px'),
};
/** For tests and curious operators: the plots and how many polls succeeded. */
const page = { plots, histories, polls: 0, errors: 0 };
(globalThis as unknown as { statusPage: typeof page }).statusPage = page;

function layerText(l: Layer | null): string {
  if (l === null) {
    return '–';
  }
  const size = l.width !== null && l.height !== null ? ` ${l.width}×${l.height}` : '';
  return `${l.rid ?? 'single'}${size}`;
}

function layersText(t: Track): Child {
  if (t.layers.length === 0) {
    return '–';
  }
  return el(
    'ul',
    { className: 'layers' },
    ...t.layers.map((l) =>
      el('li', { className: l.active ? 'on' : 'off' }, `${layerText(l)}: ${bitrate(l.bitrate_bps)}`),
    ),
  );
}

function collect(doc: Status): { tracks: Values; subscriptions: Values; links: Values; layers: Values } {
  const out: { tracks: Values; subscriptions: Values; links: Values; layers: Values } = {
    tracks: new Map(),
    subscriptions: new Map(),
    links: new Map(),
    layers: new Map(),
  };
  for (const c of doc.detail?.conferences ?? []) {
    const conf = JSON.stringify([c.room_id, c.conf_id]);
    for (const p of c.participants) {
      for (const t of p.published) {
        out.tracks.set(JSON.stringify([conf, p.user_id, p.device_id, t.stream_id, t.track_id]), {
          label: `${short(p.user_id)} ${t.kind} ${short(t.track_id, 12)}`,
          value: t.bitrate_bps,
        });
      }
      for (const s of p.subscriptions) {
        out.subscriptions.set(JSON.stringify([conf, p.user_id, p.device_id, s.stream_id, s.track_id]), {
          label: `${short(p.user_id)} ← ${short(s.from_user_id ?? '?')} ${s.kind} ${short(s.track_id, 12)}`,
          value: s.bitrate_bps,
        });
        // The layer forwarded now, as its frame height (a switch shows as a step); none yet: no point.
        const height = s.kind === 'video' ? s.layer?.height : undefined;
        if (height !== undefined && height !== null) {
          out.layers.set(JSON.stringify([conf, p.user_id, p.device_id, s.stream_id, s.track_id]), {
            label: `${short(p.user_id)} ← ${short(s.from_user_id ?? '?')} ${short(s.track_id, 12)}`,
            value: height,
          });
        }
      }
    }
    for (const l of c.links) {
      const remote = `${l.remote.user_id}|${l.remote.device_id}`;
      out.links.set(JSON.stringify([conf, remote, 'in']), {
        label: `${short(l.remote.user_id)} in`,
        value: l.bitrate_in_bps,
      });
      out.links.set(JSON.stringify([conf, remote, 'out']), {
        label: `${short(l.remote.user_id)} out`,
        value: l.bitrate_out_bps,
      });
      for (const t of l.relayed) {
        out.tracks.set(JSON.stringify([conf, remote, t.stream_id, t.track_id]), {
          label: `${short(t.user_id ?? '?')} ${t.kind} ${short(t.track_id, 12)} (relayed)`,
          value: t.bitrate_bps,
        });
      }
    }
  }
  return out;
}

/** A table, or "none" when there is no row. */
function tableOrNone(className: string, head: readonly string[], rows: readonly Child[][]): HTMLElement {
  return rows.length === 0
    ? el('p', { className: `${className} none` }, 'none')
    : table(className, head, rows);
}

function participantsTable(ps: readonly Participant[]): HTMLElement {
  return tableOrNone(
    'participants',
    ['user', 'device', 'state', 'connected', 'since', 'published', 'subscribed'],
    ps.map((p) => [
      p.user_id,
      p.device_id,
      p.state,
      p.connected ? 'yes' : 'no',
      duration(p.since_s),
      p.published.length + p.published_omitted,
      p.subscriptions.length + p.subscriptions_omitted,
    ]),
  );
}

function tracksTable(ps: readonly Participant[]): HTMLElement {
  return tableOrNone(
    'tracks',
    ['publisher', 'stream', 'track', 'kind', 'layers', 'bit rate'],
    ps.flatMap((p) =>
      p.published.map((t) => [
        p.user_id,
        t.stream_id,
        t.track_id,
        t.kind,
        layersText(t),
        bitrate(t.bitrate_bps),
      ]),
    ),
  );
}

function subscriptionsTable(ps: readonly Participant[]): HTMLElement {
  return tableOrNone(
    'subscriptions',
    ['subscriber', 'from', 'track', 'kind', 'requested', 'layer', 'switching to', 'bit rate'],
    ps.flatMap((p) =>
      p.subscriptions.map((s) => [
        p.user_id,
        s.from_user_id ?? '–',
        s.track_id,
        s.kind,
        s.requested.width > 0 ? `${s.requested.width}×${s.requested.height}` : 'any',
        layerText(s.layer),
        s.target_layer === null ? '' : layerText(s.target_layer),
        bitrate(s.bitrate_bps),
      ]),
    ),
  );
}

/** `track: q of q,f` per video track sent on the trunk (a paused layer shows as demanded, not sending). */
function trunkSends(l: Link): string {
  const video = l.trunk_sends.filter((s) => s.kind === 'video');
  if (video.length === 0) {
    return '–';
  }
  const more = l.trunk_sends_omitted > 0 ? ` (+${l.trunk_sends_omitted})` : '';
  return (
    video
      .map((s) => `${s.track_id}: ${s.sending.join(',') || 'none'} of ${s.demanded.join(',') || 'none'}`)
      .join('; ') + more
  );
}

function linksTable(ls: readonly Link[]): HTMLElement {
  return tableOrNone(
    'links',
    [
      'remote focus',
      'state',
      'RTP in / out',
      'in',
      'out',
      'estimate',
      'budget',
      'relayed tracks',
      'video sent on the trunk (sending of demanded)',
    ],
    ls.map((l) => [
      `${l.remote.user_id} ${l.remote.device_id}`,
      l.state,
      `${l.rtp_in} / ${l.rtp_out}`,
      bitrate(l.bitrate_in_bps),
      bitrate(l.bitrate_out_bps),
      bitrate(l.estimate_bps),
      bitrate(l.budget_bps),
      l.relayed.length + l.relayed_omitted,
      trunkSends(l),
    ]),
  );
}

function relayedTable(ls: readonly Link[]): HTMLElement {
  return tableOrNone(
    'relayed',
    ['publisher', 'via focus', 'stream', 'track', 'kind', 'layers', 'bit rate'],
    ls.flatMap((l) =>
      l.relayed.map((t) => [
        t.user_id ?? '–',
        l.remote.user_id,
        t.stream_id,
        t.track_id,
        t.kind,
        layersText(t),
        bitrate(t.bitrate_bps),
      ]),
    ),
  );
}

function conferenceSection(c: Conference): HTMLElement {
  const ps = c.participants;
  return el(
    'section',
    { className: 'conference' },
    el(
      'h3',
      {},
      'Conference ',
      el('code', { className: 'room' }, c.room_id),
      ' / ',
      el('code', {}, c.conf_id),
    ),
    el('h4', {}, 'Participants'),
    participantsTable(ps),
    omitted(c.participants_omitted, 'participants'),
    el('h4', {}, 'Published tracks'),
    tracksTable(ps),
    el('h4', {}, 'Subscriptions'),
    subscriptionsTable(ps),
    el('h4', {}, 'Links to other foci'),
    linksTable(c.links),
    omitted(c.links_omitted, 'links'),
    el('h4', {}, 'Tracks relayed from other foci'),
    relayedTable(c.links),
  );
}

function render(doc: Status): void {
  byId('summary').replaceChildren(
    `${doc.name} ${doc.version} · focus ${doc.focus.user_id} ${doc.focus.device_id} · up ${duration(doc.uptime_s)} · ` +
      `${doc.ready ? 'ready' : 'NOT ready'} · ${count(doc.conferences, 'conference')}, ${count(doc.sessions, 'session')}, ` +
      count(doc.links, 'link'),
  );
  const detail = doc.detail;
  const confs = detail?.conferences ?? [];
  byId('conferences').replaceChildren(
    ...(confs.length === 0 ? [el('p', {}, 'no conference')] : confs.map(conferenceSection)),
    ...[omitted(detail?.conferences_omitted ?? 0, 'conferences')].filter((x) => x !== null),
  );
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('status?format=json', {
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    const doc = (await res.json()) as Status;
    const now = Date.now();
    const values = collect(doc);
    histories.tracks.add(now, values.tracks);
    histories.subscriptions.add(now, values.subscriptions);
    histories.links.add(now, values.links);
    histories.layers.add(now, values.layers);
    render(doc);
    plots.tracks.update();
    plots.subscriptions.update();
    plots.links.update();
    plots.layers.update();
    page.polls++;
    byId('error').replaceChildren();
  } catch (e) {
    page.errors++;
    byId('error').replaceChildren(`status poll failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    setTimeout(() => void poll(), POLL_MS);
  }
}

void poll();
