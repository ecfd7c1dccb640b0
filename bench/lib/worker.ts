/**
 * A bench load process: real werift peers driven through the test homeserver and the data channel exactly
 * like the test clients (CallClient, dialect A subscribe). Ops: `publisher` (synthetic VP8 + Opus),
 * `subscribers` (each subscribes to a publisher's audio and video and counts what arrives: packets, holes,
 * latency from the send time in the payload), `janusPublisher` / `janusSubscribers` (the same load on Janus's
 * VideoRoom, for `--vs janus`), `meetingJoin` / `meetingSubscribe` (participants publishing synthetic
 * simulcast and subscribing to each other), `cascadePublisher` (one participant publishing synthetic simulcast, for
 * `cascade`; subscribers tagged `near`/`far` measure the hop: the far arrival minus the near arrival of the same
 * packet), `churn` (join/leave cycles, churnLoad.ts), `floodStart` / `floodStop` (a hostile client, floodLoad.ts), `windowStart` / `windowEnd` (counters and this process's CPU over the measurement window), `stop`.
 */
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { CallClient, dc, type FocusRef } from '../../client/index.js';
import {
  joinWithMedia,
  request,
  resize,
  streamOf,
  subscribe,
  type MediaClient,
  type StreamTracks,
} from '../../harness/mediaCall.js';
import { WeriftPeer, type SyntheticVideo } from '../../harness/peers/weriftPeer.js';
import { WrtcPeer } from '../../harness/peers/wrtcPeer.js';
import type { TestCallClient } from '../../harness/callStack.js';
import { StreamChecker } from '../../harness/rtpCheck.js';
import { waitFor } from '../../harness/stack.js';
import { installCheapReceive, sendCheaply, type CheapReceiveStats } from './cheapReceive.js';
import { SocketArrivals, tapSocketArrivals } from './loadSockets.js';
import { churnCycles } from './churnLoad.js';
import { Flooder, type FloodKind } from './floodLoad.js';
import { loadClient } from './loadClient.js';
import { JanusSession } from './janusClient.js';
import { createRoom, publish, subscribeFeed } from './janusLoad.js';
import { serve } from './rpc.js';

export interface UserCreds {
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface Env {
  hsUrl: string;
  roomId: string;
  focus: FocusRef;
}

/** What `windowEnd` replies: this load process's CPU, what it sent and received, latency samples. */
export interface WindowEnd {
  wallMs: number;
  cpuMs: number;
  /** The fanout publisher's packets sent in the window (0 without one). */
  sent: { audio: number; video: number };
  received: {
    audio: number;
    video: number;
    duplicates: number;
    videoInWindow: number;
    videoByWidth: Record<string, number>;
  }[];
  /** The fanout publisher's video packets whose send time is in the window. */
  videoSentInWindow: number;
  /** `meeting`: the participants' video packets whose send time is in the window, per rid. */
  simulcastSentInWindow: Record<string, number>;
  latencyMs: number[];
  /**
   * The same packets' latency to their arrival in this process's socket (the kernel's receive timestamp: what
   * the load's own stalls do not delay), paired index by index with `latencyMs`; empty where the sockets are not
   * read in batches (no native add-on, or not the cheap receive path).
   */
  socketLatencyMs: number[];
  /** `cascade`: per packet received by both a `far` and a `near` subscriber here, far − near arrival (ms). */
  hopMs: number[];
  /**
   * The same, far − near arrival in the two subscribers' sockets (kernel receive timestamps: without this
   * process's own delay in reading either), paired index by index with `hopMs`; empty where not measured (no
   * native add-on).
   */
  hopAtSocketMs: number[];
  /** The cheap receive path's refusals in the window (retransmitted copies; anything not authentic). */
  cheapRefused: number;
  /** This process's event-loop delay in the window (ms): a packet waits as long before it is read or sent. */
  lagMs: { p99: number; max: number };
  /** This process's longest GC pause in the window (ms). */
  gcMaxMs: number;
}

interface Sub {
  audio: number;
  video: number;
  /** Retransmitted copies (a sequence number seen before in this window): not counted as delivered. */
  duplicates: number;
  /** Sequence numbers seen in this window, per received SSRC. */
  seen: Map<number, Uint8Array>;
  /** Distinct video packets received in this window, by the layer width written in their payload. */
  videoByWidth: Map<number, number>;
  /** Send times (monotonic ms) of the distinct video packets received in this window. */
  videoSentAt: number[];
  firstAt: number | undefined;
  /** `cascade`'s near and far subscribers: their RTP's arrival in their sockets. */
  arrivals?: SocketArrivals;
}

/** Latency samples kept per window (a uniform sample beyond this). */
const MAX_SAMPLES = 50_000;
/** Subscribers of one `subscribers` call that join at once. */
const JOIN_CONCURRENCY = 5;

/** Send times kept per subscriber and window (60 s at 270 pkt/s, with room). */
const MAX_SENT_TIMES = 40_000;

const clients: TestCallClient[] = [];
/** Janus load: sessions and peers (no CallClient there). */
const janusSessions: JanusSession[] = [];
const janusPeers: WeriftPeer[] = [];
const subs: Sub[] = [];
let publisher: { peer: WeriftPeer; video: { sent: () => number; stop: () => void } } | undefined;
let latencies: number[] = [];
let socketLatencies: number[] = [];
/** Send times (monotonic ms) of the publisher's video packets since the window started. */
const publisherSentAt: number[] = [];
/** `meeting`: this process's participants (each publishes synthetic simulcast and subscribes to the others). */
const participants: { mc: MediaClient; userId: string; video: { stop: () => void } }[] = [];
/** `meeting`: send times (monotonic ms) per rid of the participants' video packets since the window started. */
const simulcastSentAt = new Map<string, number[]>();
let seen = 0;
/** The longest GC pause since the window started (ms). */
let gcMaxMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMaxMs = Math.max(gcMaxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });
/** What the cheap receive path refused (replays included) or could not place, since the process started. */
const cheapStats: CheapReceiveStats = { refused: 0, unknownPayloadType: 0 };
/** `cascade`: the first arrival (monotonic ns) of each packet, by its send time, at a near or a far subscriber. */
const hopFirst = new Map<bigint, { far: boolean; at: bigint; atSocket: number | undefined }>();
let hopMs: number[] = [];
let hopAtSocketMs: number[] = [];
const MAX_HOP_PENDING = 20_000;
/**
 * With BENCH_HOP_TRACE=DIR the probe also keeps, per paired packet, [sent, near arrival, far arrival] (monotonic
 * ms) and writes them to DIR/hop-<pid>-<window end>.json at each window's end: where a tail comes from.
 */
const hopTraceDir = process.env['BENCH_HOP_TRACE'];
let hopTrace: [number, number, number][] = [];

/**
 * Pairs the arrivals of one packet at a near and a far subscriber: `at` when this process got it, `atSocket`
 * (monotonic ms) when it arrived in the subscriber's socket, if known.
 */
function hopArrival(sentNs: bigint, far: boolean, at: bigint, atSocket: number | undefined): void {
  const first = hopFirst.get(sentNs);
  if (first === undefined) {
    if (hopFirst.size >= MAX_HOP_PENDING) {
      hopFirst.delete(hopFirst.keys().next().value!);
    }
    hopFirst.set(sentNs, { far, at, atSocket });
    return;
  }
  if (first.far === far) {
    return; // a retransmitted copy at the same side
  }
  hopFirst.delete(sentNs);
  if (hopMs.length < MAX_SAMPLES) {
    const farAt = far ? at : first.at;
    const nearAt = far ? first.at : at;
    // At the sockets only while every sample has both arrivals (the two lists stay paired).
    if (hopAtSocketMs.length === hopMs.length && atSocket !== undefined && first.atSocket !== undefined) {
      hopAtSocketMs.push(far ? atSocket - first.atSocket : first.atSocket - atSocket);
    } else if (hopAtSocketMs.length > 0) {
      hopAtSocketMs = [];
    }
    hopMs.push(Number(farAt - nearAt) / 1e6);
    if (hopTraceDir !== undefined) {
      hopTrace.push([Number(sentNs) / 1e6, Number(nearAt) / 1e6, Number(farAt) / 1e6]);
    }
  }
}
/** `cascade-cpu`: subscribers pointed at one publisher, another, or none between windows (`retarget`). */
const targets: {
  mc: MediaClient;
  sub: Sub;
  userId: string;
  /** What it watches now, and whose. */
  current: (StreamTracks & { owner: string }) | undefined;
}[] = [];
let targetSeq = 0;

/** Sends one dialect-A request (a fresh id) and waits for its `ack`; an `error` throws. */
async function requestOk(mc: MediaClient, frame: (id: string) => string, what: string): Promise<void> {
  const id = `t-${++targetSeq}`;
  const err = await request(mc, frame(id), id);
  if (err !== undefined) {
    throw new Error(`${what} failed: ${JSON.stringify(err)}`);
  }
}

/** Points one `targets` subscriber at `owner`'s audio and video (1280×720), or at nothing. */
async function retargetOne(t: (typeof targets)[number], owner: string | null): Promise<void> {
  if ((t.current?.owner ?? null) === owner) {
    return;
  }
  if (t.current !== undefined) {
    const c = t.current;
    const stop = [
      { stream_id: c.streamId, track_id: c.audio! },
      { stream_id: c.streamId, track_id: c.video! },
    ];
    await requestOk(t.mc, (id) => dc.unsubscribeFrame('A', stop, id), `${t.userId} unsubscribe`);
    t.current = undefined;
  }
  if (owner === null) {
    return;
  }
  const s = await streamOf(t.mc, owner, { audio: true, video: true });
  const start = [
    { stream_id: s.streamId, track_id: s.audio! },
    { stream_id: s.streamId, track_id: s.video!, width: 1280, height: 720 },
  ];
  const before = t.sub.video;
  await requestOk(t.mc, (id) => dc.subscribeFrame('A', start, id), `${t.userId} subscribe to ${owner}`);
  t.current = { ...s, owner };
  await waitFor(() => t.sub.video > before + 25, 30_000, `${t.userId} receives ${owner}'s video`);
}

let window:
  | {
      cpu: NodeJS.CpuUsage;
      at: number;
      audioSent: number;
      videoSent: number;
      cheapRefused: number;
      lag: IntervalHistogram;
    }
  | undefined;
/** `flood`: the running flooder. */
let flooder: Flooder | undefined;

function newClient(env: Env, u: UserCreds): { c: TestCallClient; peer: WeriftPeer } {
  const c = loadClient(env, u);
  clients.push(c);
  return { c, peer: c.peer };
}

/** One latency sample (ms), and the same packet's at its socket when known (`atSocketMs` ≥ 0, else -1). */
function sample(ms: number, atSocketMs: number): void {
  seen++;
  // Socket latencies are kept only while every sample has one (the two lists stay paired).
  if (atSocketMs < 0 && socketLatencies.length > 0 && socketLatencies.length === latencies.length) {
    socketLatencies = [];
  }
  const paired = atSocketMs >= 0 && socketLatencies.length === latencies.length;
  if (latencies.length < MAX_SAMPLES) {
    latencies.push(ms);
    if (paired) {
      socketLatencies.push(atSocketMs);
    }
  } else {
    const j = Math.floor(Math.random() * seen);
    if (j < MAX_SAMPLES) {
      latencies[j] = ms;
      if (paired) {
        socketLatencies[j] = atSocketMs;
      }
    }
  }
}

/** A synthetic simulcast packet of layer `rid` was sent at `ns`: its send time kept for the window. */
function simulcastSent(rid: string, ns: bigint): void {
  let list = simulcastSentAt.get(rid);
  if (list === undefined) {
    list = [];
    simulcastSentAt.set(rid, list);
  }
  if (list.length < MAX_SENT_TIMES) {
    list.push(Number(ns) / 1e6);
  }
}

/** The publisher's synthetic video, each packet's send time kept for the window. */
function startVideo(peer: WeriftPeer, video: SyntheticVideo): { sent: () => number; stop: () => void } {
  return peer.startSyntheticVideo({
    ...video,
    onSent: (ns) => {
      if (publisherSentAt.length < MAX_SENT_TIMES) {
        publisherSentAt.push(Number(ns) / 1e6);
      }
    },
  });
}

/** SO_RCVBUF for the load peers: 4 MiB (this machine's net.core.rmem_max), ≈ 1 s of what a load process receives. */
const LOAD_RECEIVE_BUFFER = 4 * 1024 * 1024;

/** A subscriber's counters, fed by every RTP packet `peer` receives from now on. */
function countInto(peer: WeriftPeer, hop?: 'near' | 'far'): Sub {
  const sub = newSub();
  if (hop !== undefined) {
    // The hop also read at the sockets (with the add-on: the peer's sockets read in batches).
    const arrivals = new SocketArrivals();
    if (tapSocketArrivals(peer.rawReceive().dtlsTransports, arrivals) > 0) {
      sub.arrivals = arrivals;
    }
  }
  peer.onRtp((r) => {
    count(sub, r.ssrc, r.seq, r.kind, r.payload, hop, -1, sub.arrivals?.take(r.ssrc, r.seq));
  });
  return sub;
}

/**
 * The same counters fed by the cheap receive path (cheapReceive.ts): werift never sees the media. Installed
 * once the peer's SRTP session exists (retried for up to 30 s).
 */
async function countCheaply(peer: WeriftPeer): Promise<Sub> {
  const sub = newSub();
  const raw = peer.rawReceive();
  await waitFor(
    () =>
      installCheapReceive(raw.dtlsTransports, raw.kinds, cheapStats, (r) => {
        count(sub, r.ssrc, r.seq, r.kind, r.payload, undefined, r.waitedUs);
      }) > 0,
    30_000,
    'the cheap receive path installed',
  );
  return sub;
}

function newSub(): Sub {
  const sub: Sub = {
    audio: 0,
    video: 0,
    duplicates: 0,
    seen: new Map(),
    videoByWidth: new Map(),
    videoSentAt: [],
    firstAt: undefined,
  };
  subs.push(sub);
  return sub;
}

function count(
  sub: Sub,
  ssrc: number,
  seqNo: number,
  kind: string,
  payload: Buffer,
  hop: 'near' | 'far' | undefined,
  /** How long the datagram waited in its socket (µs), -1 when not known. */
  waitedUs: number,
  /** When it arrived in its socket (monotonic ms), if known (`cascade`'s hop). */
  atSocketMs?: number,
): void {
  sub.firstAt ??= Date.now();
  let seen = sub.seen.get(ssrc);
  if (seen === undefined) {
    seen = new Uint8Array(65536);
    sub.seen.set(ssrc, seen);
  }
  if (seen[seqNo] === 1) {
    sub.duplicates++;
    return;
  }
  seen[seqNo] = 1;
  if (kind === 'audio') {
    sub.audio++;
    return;
  }
  sub.video++;
  if (payload.length >= 18) {
    const w = payload.readUInt16BE(payload.length - 10);
    sub.videoByWidth.set(w, (sub.videoByWidth.get(w) ?? 0) + 1);
  }
  if (payload.length >= 16) {
    const sentNs = payload.readBigUInt64BE(payload.length - 8);
    const now = process.hrtime.bigint();
    const ms = Number(now - sentNs) / 1e6;
    sample(ms, waitedUs >= 0 ? Math.max(0, ms - waitedUs / 1000) : -1);
    if (hop !== undefined) {
      hopArrival(sentNs, hop === 'far', now, atSocketMs);
    }
    if (sub.videoSentAt.length < MAX_SENT_TIMES) {
      sub.videoSentAt.push(Number(sentNs) / 1e6);
    }
  }
}

serve(
  {
    publisher: async (a: { env: Env; user: UserCreds; video: SyntheticVideo }) => {
      const { c, peer } = newClient(a.env, a.user);
      await c.publishMembership(a.env.roomId, a.env.focus);
      await joinWithMedia({ focusRef: a.env.focus }, c, { audio: true, video: true });
      publisher = { peer, video: startVideo(peer, a.video) };
      return { userId: a.user.userId };
    },
    /** A libwebrtc publisher sending real 3-layer VP8 simulcast (q/h/f) + Opus, for `switch`. */
    simulcastPublisher: async (a: { env: Env; user: UserCreds }) => {
      const c = new CallClient({
        hsUrl: a.env.hsUrl,
        userId: a.user.userId,
        accessToken: a.user.accessToken,
        deviceId: a.user.deviceId,
        peer: new WrtcPeer(),
      });
      clients.push(c);
      await c.publishMembership(a.env.roomId, a.env.focus);
      await joinWithMedia({ focusRef: a.env.focus }, c, { audio: true, video: { simulcast: true } });
      return {};
    },
    /**
     * One subscriber that alternates between 320×180 and 1280×720 `rounds` times: per change, the time from
     * its `subscribe` to the first keyframe of the new layer (where the SFU switches).
     */
    switcher: async (a: { env: Env; user: UserCreds; owner: string; rounds: number }) => {
      const { c, peer } = newClient(a.env, a.user);
      await c.publishMembership(a.env.roomId, a.env.focus);
      const mc = await joinWithMedia({ focusRef: a.env.focus }, c, {});
      const s = await streamOf(mc, a.owner, { video: true });
      const check = new StreamChecker(true);
      peer.onRtp((r) => {
        if (r.kind === 'video') {
          check.add(r);
        }
      });
      const seen = (w: number, after: number) =>
        check.report.keyframes.find((k) => k.width === w && k.at >= after);
      await subscribe(mc, [{ stream_id: s.streamId, track_id: s.video!, width: 320, height: 180 }], 'sw-0');
      await waitFor(() => seen(320, 0) !== undefined, 30_000, 'the low layer');
      // The publisher's top layer needs the SFU's REMB to start: wait until a first switch up succeeds.
      const upMs: number[] = [];
      const downMs: number[] = [];
      for (let i = 0; i < a.rounds + 1; i++) {
        for (const [w, h, into] of [
          [1280, 720, upMs],
          [320, 180, downMs],
        ] as const) {
          const at = Date.now();
          resize(mc, s.streamId, s.video!, w, h, `sw-${i}-${w}`);
          await waitFor(() => seen(w, at) !== undefined, 30_000, `${w}×${h} keyframe`);
          if (i > 0) {
            into.push(seen(w, at)!.at - at); // round 0 is the warm-up (the top layer ramping up)
          }
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      return { upMs, downMs, problems: check.report.problems };
    },
    subscribers: async (a: {
      env: Env;
      users: UserCreds[];
      owner: string;
      width: number;
      height: number;
      /** `cascade`: these subscribers are the near (same focus as the publisher) or far side of the hop. */
      hop?: 'near' | 'far';
    }) => {
      const joinOne = async (u: UserCreds) => {
        const { c, peer } = newClient(a.env, u);
        await c.publishMembership(a.env.roomId, a.env.focus);
        const invitedAt = Date.now(); // joinWithMedia sends the invite first
        const mc = await joinWithMedia({ focusRef: a.env.focus }, c, {});
        peer.setReceiveBufferSize(LOAD_RECEIVE_BUFFER);
        const s = await streamOf(mc, a.owner, { audio: true, video: true });
        const sub = countInto(peer, a.hop);
        const t0 = Date.now();
        await subscribe(
          mc,
          [
            { stream_id: s.streamId, track_id: s.audio! },
            { stream_id: s.streamId, track_id: s.video!, width: a.width, height: a.height },
          ],
          `sub-${u.deviceId}`,
        );
        await waitFor(() => sub.video > 0, 30_000, `${u.userId} receives video`);
        const first = sub.firstAt ?? Date.now();
        return { subscribeToFirstRtpMs: first - t0, joinToFirstRtpMs: first - invitedAt };
      };
      // At most JOIN_CONCURRENCY handshakes at once: 20 at once on a loaded 2-core machine (cascade's near
      // subscribers join while the far ones receive) timed their DTLS out.
      const joined: Awaited<ReturnType<typeof joinOne>>[] = [];
      for (let i = 0; i < a.users.length; i += JOIN_CONCURRENCY) {
        joined.push(...(await Promise.all(a.users.slice(i, i + JOIN_CONCURRENCY).map(joinOne))));
      }
      return joined;
    },
    /** `cascade`: one publisher of synthetic 3-layer simulcast + Opus; its packets' send times kept per rid. */
    cascadePublisher: async (a: {
      env: Env;
      user: UserCreds;
      layers: (SyntheticVideo & { rid: string })[];
    }) => {
      const { c, peer } = newClient(a.env, a.user);
      await c.publishMembership(a.env.roomId, a.env.focus);
      await joinWithMedia({ focusRef: a.env.focus }, c, { audio: true, video: { simulcast: true } });
      const video = peer.startSyntheticSimulcast(a.layers, simulcastSent);
      publisher = {
        peer,
        video: { sent: () => Object.values(video.sent()).reduce((n, x) => n + x, 0), stop: video.stop },
      };
      return { userId: a.user.userId };
    },
    /**
     * `cascade-cpu`: subscribers that join without subscribing; `retarget` points them at publishers. One after
     * the other: with `--pin` every load process shares one core with the publishers' media, and eight werift
     * peers setting up ICE and DTLS at once there missed the join's 20-s wait (2026-12-07: 5 of 7 runs).
     */
    targetSubscribers: async (a: { env: Env; users: UserCreds[] }) => {
      for (const u of a.users) {
        const { c, peer } = newClient(a.env, u);
        await c.publishMembership(a.env.roomId, a.env.focus);
        const mc = await joinWithMedia({ focusRef: a.env.focus }, c, {});
        peer.setReceiveBufferSize(LOAD_RECEIVE_BUFFER);
        targets.push({ mc, sub: countInto(peer), current: undefined, userId: u.userId });
      }
      return {};
    },
    /** `cascade-cpu` diagnostics: per target subscriber, what it watches and has received, and its last messages. */
    targetState: () =>
      targets.map((t) => ({
        userId: t.userId,
        owner: t.current?.owner ?? null,
        audio: t.sub.audio,
        video: t.sub.video,
        ssrcs: [...t.sub.seen.keys()],
        answered: t.mc.answered(),
        last: t.mc.msgs.slice(-6).map((m) => JSON.stringify(m).slice(0, 300)),
      })),
    /** `cascade-cpu`: subscriber j of `targetSubscribers` watches `owners[j]` (null: nothing) from now on. */
    retarget: async (a: { owners: (string | null)[] }) => {
      await Promise.all(targets.map((t, j) => retargetOne(t, a.owners[j] ?? null)));
      return {};
    },
    /** Janus: creates `room` and publishes the same synthetic VP8 + Opus into it from `address`. */
    /** `flood`: one flooder (floodLoad.ts) joins, subscribes to `owner`'s video and floods `kind` at `perSecond`. */
    floodStart: async (a: {
      env: Env;
      user: UserCreds;
      owner: string;
      kind: FloodKind;
      perSecond: number;
    }) => {
      flooder = await Flooder.start(a.env, a.user, a.owner, a.kind, a.perSecond);
      return {};
    },
    /** `flood`: waits up to `waitHangupMs` for the flooder's hangup, stops it and reports. */
    floodStop: async (a: { waitHangupMs: number }) => {
      const f = flooder;
      flooder = undefined;
      if (f === undefined) {
        throw new Error('no flood running');
      }
      return f.stop(a.waitHangupMs);
    },
    /** `churn`: join/leave cycles over one lane per user (churnLoad.ts); what completed, and how long each took. */
    churn: async (a: { env: Env; users: UserCreds[]; cycles: number; offset: number }) =>
      churnCycles(a.env, a.users, a.cycles, a.offset),
    janusPublisher: async (a: { url: string; address: string; room: number; video: SyntheticVideo }) => {
      const session = await JanusSession.create(a.url);
      janusSessions.push(session);
      await createRoom(session, a.room);
      const peer = new WeriftPeer({ address: a.address });
      janusPeers.push(peer);
      const feed = await publish(session, peer, a.room);
      publisher = { peer, video: startVideo(peer, a.video) };
      return { feed };
    },
    /** Janus: `count` subscribers of `feed`, counted like the SFU's. */
    janusSubscribers: async (a: {
      url: string;
      address: string;
      room: number;
      feed: number;
      count: number;
    }) => {
      const session = await JanusSession.create(a.url);
      janusSessions.push(session);
      return Promise.all(
        Array.from({ length: a.count }, async () => {
          const peer = new WeriftPeer({ address: a.address });
          janusPeers.push(peer);
          const sub = countInto(peer);
          const t0 = Date.now();
          await subscribeFeed(session, peer, a.room, a.feed);
          peer.setReceiveBufferSize(LOAD_RECEIVE_BUFFER);
          await waitFor(() => sub.video > 0, 30_000, 'a Janus subscriber receives video');
          return { subscribeToFirstRtpMs: (sub.firstAt ?? Date.now()) - t0 };
        }),
      );
    },
    /** `meeting`: participants that publish synthetic 3-layer simulcast + Opus (no subscriptions yet). */
    /** `cheap`: the participants receive and send through the cheap paths (cheapReceive.ts), for a one-core load. */
    meetingJoin: async (a: {
      env: Env;
      users: UserCreds[];
      layers: (SyntheticVideo & { rid: string })[];
      cheap?: boolean;
    }) => {
      return Promise.all(
        a.users.map(async (u) => {
          const { c, peer } = newClient(a.env, u);
          await c.publishMembership(a.env.roomId, a.env.focus);
          const mc = await joinWithMedia({ focusRef: a.env.focus }, c, {
            audio: true,
            video: { simulcast: true },
          });
          peer.setReceiveBufferSize(LOAD_RECEIVE_BUFFER);
          const video = peer.startSyntheticSimulcast(
            a.layers,
            simulcastSent,
            a.cheap === true ? sendCheaply : undefined,
          );
          participants.push({ mc, userId: u.userId, video });
          if (a.cheap === true) {
            await countCheaply(peer);
          } else {
            countInto(peer);
          }
          return u.userId;
        }),
      );
    },
    /** `meeting`: every participant here subscribes to every other one's audio + video at `width`×`height`. */
    meetingSubscribe: async (a: { owners: string[]; width: number; height: number }) => {
      await Promise.all(
        participants.map(async (p, i) => {
          const tracks: { stream_id: string; track_id: string; width?: number; height?: number }[] = [];
          for (const owner of a.owners.filter((o) => o !== p.userId)) {
            const s = await streamOf(p.mc, owner, { audio: true, video: true });
            tracks.push(
              { stream_id: s.streamId, track_id: s.audio! },
              { stream_id: s.streamId, track_id: s.video!, width: a.width, height: a.height },
            );
          }
          await subscribe(p.mc, tracks, `meeting-${i}`);
        }),
      );
      return {};
    },
    /** `fanout`'s idle window: the publisher stops sending media; every connection stays up. */
    stopMedia: () => {
      publisher?.video.stop();
      publisher?.peer.stopAudio();
      return {};
    },
    windowStart: () => {
      window?.lag.disable();
      gcMaxMs = 0;
      latencies = [];
      socketLatencies = [];
      seen = 0;
      hopMs = [];
      hopAtSocketMs = [];
      hopTrace = [];
      hopFirst.clear();
      for (const s of subs) {
        s.audio = 0;
        s.video = 0;
        s.duplicates = 0;
        s.seen.clear();
        s.videoByWidth.clear();
        s.videoSentAt = [];
      }
      publisherSentAt.length = 0;
      simulcastSentAt.clear();
      window = {
        cpu: process.cpuUsage(),
        at: performance.now(),
        audioSent: publisher?.peer.audioSent ?? 0,
        videoSent: publisher?.video.sent() ?? 0,
        cheapRefused: cheapStats.refused,
        lag: monitorEventLoopDelay({ resolution: 2 }),
      };
      window.lag.enable();
      return {};
    },
    windowEnd: (a: { fromMs: number; toMs: number }): WindowEnd => {
      const inWindow = (t: number) => t >= a.fromMs && t < a.toMs;
      const w = window;
      if (w === undefined) {
        throw new Error('no window started');
      }
      const cpu = process.cpuUsage(w.cpu);
      w.lag.disable();
      if (hopTraceDir !== undefined && hopTrace.length > 0) {
        writeFileSync(
          `${hopTraceDir}/hop-${process.pid}-${Math.round(a.toMs)}.json`,
          JSON.stringify(hopTrace),
        );
      }
      return {
        wallMs: performance.now() - w.at,
        cpuMs: (cpu.user + cpu.system) / 1000,
        sent: {
          audio: (publisher?.peer.audioSent ?? 0) - w.audioSent,
          video: (publisher?.video.sent() ?? 0) - w.videoSent,
        },
        received: subs.map((s) => ({
          audio: s.audio,
          video: s.video,
          duplicates: s.duplicates,
          videoInWindow: s.videoSentAt.filter(inWindow).length,
          videoByWidth: Object.fromEntries(s.videoByWidth),
        })),
        videoSentInWindow: publisherSentAt.filter(inWindow).length,
        simulcastSentInWindow: Object.fromEntries(
          [...simulcastSentAt].map(([rid, list]) => [rid, list.filter(inWindow).length]),
        ),
        latencyMs: latencies,
        socketLatencyMs: socketLatencies.length === latencies.length ? socketLatencies : [],
        hopMs,
        hopAtSocketMs: hopAtSocketMs.length === hopMs.length ? hopAtSocketMs : [],
        cheapRefused: cheapStats.refused - w.cheapRefused,
        lagMs: { p99: w.lag.percentile(99) / 1e6, max: w.lag.max / 1e6 },
        gcMaxMs,
      };
    },
  },
  async () => {
    await flooder?.stop(0);
    publisher?.video.stop();
    for (const p of participants) {
      p.video.stop();
    }
    await Promise.all([
      ...clients.map((c) => c.close().catch(() => undefined)),
      ...janusPeers.map((p) => p.close().catch(() => undefined)),
      ...janusSessions.map((s) => s.destroy()),
    ]);
  },
);
process.send?.({ id: 0, ok: true, result: 'ready' });
