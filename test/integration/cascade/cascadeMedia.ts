/**
 * Media flows for the cascade acceptance tests (protocol.md §8): clients of any server name of a multi-focus
 * stack (harness/multiCallStack.ts) join their own server's focus, publish synthetic 3-layer VP8 simulcast
 * (q 320×180, h 640×360, f 1280×720) + Opus with werift, and record what they receive per SSRC.
 */
import type { Test } from 'tap';
import type { CallStack, TestCallClient } from '../../../harness/callStack.js';
import { asWerift, joinWithMedia, type MediaClient } from '../../../harness/mediaCall.js';
import type { MultiCallStack } from '../../../harness/multiCallStack.js';
import type { ReceivedRtp, SyntheticVideo } from '../../../harness/peers/weriftPeer.js';
import { StreamChecker } from '../../../harness/rtpCheck.js';
import type { UdpRelay } from '../../../harness/udpRelay.js';

/** Light layers (2 cores shared by several focus processes and clients), sizes as a real camera's. */
export const LAYERS: (SyntheticVideo & { rid: string })[] = [
  {
    rid: 'q',
    fps: 15,
    packetsPerFrame: 1,
    payloadBytes: 600,
    keyframeIntervalMs: 2000,
    width: 320,
    height: 180,
  },
  {
    rid: 'h',
    fps: 15,
    packetsPerFrame: 2,
    payloadBytes: 800,
    keyframeIntervalMs: 2000,
    width: 640,
    height: 360,
  },
  {
    rid: 'f',
    fps: 15,
    packetsPerFrame: 3,
    payloadBytes: 1000,
    keyframeIntervalMs: 2000,
    width: 1280,
    height: 720,
  },
];

export interface Participant {
  userId: string;
  mc: MediaClient;
  /** Per received SSRC: its kind and a continuity checker. */
  received: Map<number, { kind: string; check: StreamChecker }>;
  stop(): void;
}

/** A client of `serverName`'s focus; with `publish` it sends simulcast video (`layers`) and Opus. */
export async function participant(
  ms: MultiCallStack,
  localpart: string,
  serverName: string,
  publish: boolean,
  layers: (SyntheticVideo & { rid: string })[] = LAYERS,
  relay?: UdpRelay,
): Promise<Participant> {
  const c = await ms.client(localpart, serverName, {
    kind: 'werift',
    ...(relay !== undefined ? { relay } : {}),
  });
  const mc = await joinWithMedia(
    { focusRef: ms.node(serverName).focus },
    c,
    publish ? { audio: true, video: { simulcast: true } } : {},
  );
  const peer = asWerift(c.peer);
  const video = publish ? peer.startSyntheticSimulcast(layers) : undefined;
  const received = new Map<number, { kind: string; check: StreamChecker }>();
  peer.onRtp((r: ReceivedRtp) => {
    let e = received.get(r.ssrc);
    if (e === undefined) {
      e = { kind: r.kind, check: new StreamChecker(r.kind === 'video') };
      received.set(r.ssrc, e);
    }
    e.check.add(r);
  });
  return {
    userId: c.userId,
    mc,
    received,
    stop: () => {
      video?.stop();
    },
  };
}

/** Whether a subscriber's single video stream has delivered a keyframe of `w`×`h`. */
export function onLayer(p: Participant, w: number, h: number): boolean {
  const videos = [...p.received.values()].filter((e) => e.kind === 'video');
  return (
    videos.length === 1 && videos[0]!.check.report.keyframes.some((k) => k.width === w && k.height === h)
  );
}

/** Packets received of one kind, over all SSRCs. */
export function packetsOf(p: Participant, kind: string): number {
  let n = 0;
  for (const e of p.received.values()) {
    if (e.kind === kind) {
      n += e.check.report.packets;
    }
  }
  return n;
}

/** An RTP stream seen on a trunk relay between two snapshots. */
export interface TrunkFlow {
  ssrc: number;
  packets: number;
  /** Mean datagram size (SRTP header, payload and tag). */
  meanBytes: number;
}

/** Per SSRC: what a relay direction forwarded since `before` (streams with at least `min` new packets). */
export function trunkFlows(
  now: Map<number, { packets: number; bytes: number }>,
  before: Map<number, { packets: number; bytes: number }>,
  min = 10,
): TrunkFlow[] {
  const out: TrunkFlow[] = [];
  for (const [ssrc, x] of now) {
    const b = before.get(ssrc);
    const packets = x.packets - (b?.packets ?? 0);
    if (packets >= min) {
      out.push({ ssrc, packets, meanBytes: (x.bytes - (b?.bytes ?? 0)) / packets });
    }
  }
  return out;
}

/**
 * The layer of `layers` a trunk flow carries, by datagram size: the synthetic layers have distinct payload sizes,
 * and a datagram is its payload plus at most 100 bytes of RTP header, extensions, VP8 descriptor and SRTP tag.
 * Undefined for anything smaller than the smallest layer (audio, padding probes).
 */
export function layerOfSize(
  meanBytes: number,
  layers: readonly { rid: string; payloadBytes: number }[] = LAYERS,
): string | undefined {
  return layers.find((l) => meanBytes >= l.payloadBytes && meanBytes < l.payloadBytes + 100)?.rid;
}

/** A copy of a relay direction's per-SSRC counters. */
export function snapshot(
  perSsrc: Map<number, { packets: number; bytes: number }>,
): Map<number, { packets: number; bytes: number }> {
  return new Map([...perSsrc].map(([k, v]) => [k, { packets: v.packets, bytes: v.bytes }]));
}

/**
 * `c` joins `stack`'s focus publishing Opus and simulcast video, and sends the synthetic `layers` until the test
 * ends (a teardown stops them).
 */
export async function publishSimulcast(
  t: Test,
  stack: Pick<CallStack, 'focusRef'>,
  c: TestCallClient,
  layers: readonly (SyntheticVideo & { rid: string })[] = LAYERS,
): Promise<{ mc: MediaClient; video: { sent: () => Record<string, number>; stop: () => void } }> {
  const mc = await joinWithMedia(stack, c, { audio: true, video: { simulcast: true } });
  const video = asWerift(c.peer).startSyntheticSimulcast(layers);
  t.teardown(() => {
    video.stop();
  });
  return { mc, video };
}

/** One link as a focus's `/status` shows it (the fields the cascade tests read). */
export interface LinkStatus {
  trunk_sends: { kind: string; demanded: string[]; sending: string[] }[];
  demand: { layers: string[] }[];
}

/** The first link of `serverName`'s focus, from its `/status` (undefined: none). */
export async function linkStatus(ms: MultiCallStack, serverName: string): Promise<LinkStatus | undefined> {
  const res = await fetch(`http://127.0.0.1:${ms.node(serverName).httpPort}/status`);
  const doc = (await res.json()) as { detail?: { conferences?: { links?: LinkStatus[] }[] } };
  return doc.detail?.conferences?.flatMap((c) => c.links ?? [])[0];
}
