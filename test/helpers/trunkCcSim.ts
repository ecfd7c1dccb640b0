/**
 * A deterministic trunk for the trunk congestion-control tests (src/media/link/trunkCc*.ts): streams paced at
 * rates a callback sets (the sending focus), real RTP bytes with abs-send-time (extension id 3), optional
 * seeded random loss, a FIFO bottleneck of a given capacity with a tail-drop queue limit and a fixed
 * propagation delay, the receiving focus's TrunkReceiveCc fed in arrival order and ticked every 100 ms, and
 * its RTCP bytes parsed by werift and rtp/rtcpFeedback.ts readRtcp and handed back to the sender after the
 * propagation delay. 1 ms steps; bounded by `durationMs` (packets still in flight then are neither delivered nor
 * dropped).
 */
import { RtcpPacketConverter } from 'werift';
import { TrunkReceiveCc } from '../../src/media/link/trunkCcReceive.js';
import { RtpPacketView } from '../../src/rtp/packetView.js';
import { readRtcp, type ReportBlock } from '../../src/rtp/rtcpFeedback.js';
import { absSendTime } from '../../src/rtp/headerExtensions.js';
import { writeRtpHeader } from '../../src/rtp/rtpHeader.js';

export const ABS_ID = 3;
export const RECEIVER_SSRC = 0xfeed_0001;

export interface SimStream {
  readonly ssrc: number;
  readonly clockRate: number;
  readonly packetBytes: number;
}

export interface Feedback {
  readonly remb: number | undefined;
  readonly blocks: readonly ReportBlock[];
  /** SSRCs the REMB named. */
  readonly rembSsrcs: readonly number[];
}

export interface CcSimOptions {
  readonly durationMs: number;
  readonly streams: readonly SimStream[];
  /** The sender: bit/s of each stream at `t` (0 = paused). Asked every 1 ms. */
  readonly rateBps: (ssrc: number, t: number) => number;
  /** Feedback reaching the sender (after `propMs`). */
  readonly onFeedback?: (fb: Feedback, t: number) => void;
  readonly capacityBps: (t: number) => number;
  readonly propMs?: number;
  /** Random loss before the bottleneck (0–1), seeded. */
  readonly loss?: (t: number) => number;
  /** The most a packet may queue at the bottleneck before it is dropped (default 300 ms). */
  readonly queueMs?: number;
  /** SSRCs the receiver is told about (default: all streams). */
  readonly announced?: readonly SimStream[];
  /**
   * A layer the sender paused at `t` while its publisher goes on (protocol.md §8.5 with verbatim numbers):
   * packets are made at `rateBps` — their sequence numbers used up — but not sent. Default: none.
   */
  readonly paused?: (ssrc: number, t: number) => boolean;
  /** The receiving host stalled at `t`: nothing is read; what arrived is read when the stall ends. */
  readonly stalled?: (t: number) => boolean;
  readonly rx?: TrunkReceiveCc;
}

export interface CcSimResult {
  readonly rx: TrunkReceiveCc;
  readonly rembs: { at: number; bps: number }[];
  readonly feedback: { at: number; fb: Feedback }[];
  /** Per SSRC: packets sent, delivered, dropped (loss + queue). */
  readonly sent: Map<number, number>;
  readonly delivered: Map<number, number>;
  /** Per SSRC: packets lost on the way (random loss or the bottleneck's tail drop). */
  readonly dropped: Map<number, number>;
  /** Bytes sent per 500 ms window (index = window). */
  readonly sentBytesPerWindow: number[];
  /** The same per SSRC. */
  readonly ssrcBytesPerWindow: Map<number, number[]>;
}

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function parseFeedback(bytes: Uint8Array): Feedback {
  let remb: number | undefined;
  const blocks: ReportBlock[] = [];
  let rembSsrcs: number[] = [];
  for (const p of RtcpPacketConverter.deSerialize(Buffer.from(bytes))) {
    const fb = readRtcp(p);
    if (fb.kind === 'remb') {
      remb = fb.bitrateBps;
      const raw = (p as { feedback?: { ssrcFeedbacks?: number[] } }).feedback?.ssrcFeedbacks;
      rembSsrcs = raw ?? [];
    } else if (fb.kind === 'rr') {
      blocks.push(...fb.reports);
    }
  }
  return { remb, blocks, rembSsrcs };
}

export function simulateTrunkCc(o: CcSimOptions): CcSimResult {
  const rx = o.rx ?? new TrunkReceiveCc({ senderSsrc: RECEIVER_SSRC, absSendTimeId: ABS_ID });
  rx.setSsrcs(o.announced ?? o.streams);
  const prop = o.propMs ?? 20;
  const queueMs = o.queueMs ?? 300;
  const random = prng(7);
  const view = new RtpPacketView();
  const sent = new Map<number, number>();
  const delivered = new Map<number, number>();
  const dropped = new Map<number, number>();
  const drop = (ssrc: number): void => {
    dropped.set(ssrc, (dropped.get(ssrc) ?? 0) + 1);
  };
  const sentBytesPerWindow: number[] = [];
  const ssrcBytesPerWindow = new Map<number, number[]>(o.streams.map((s) => [s.ssrc, []]));
  const rembs: { at: number; bps: number }[] = [];
  const feedback: { at: number; fb: Feedback }[] = [];
  const state = o.streams.map((s) => ({ s, seq: 1000, nextAt: 0 }));
  const inFlight: { at: number; bytes: Uint8Array; ssrc: number }[] = [];
  const pendingFb: { at: number; fb: Feedback }[] = [];
  /** A packet read after a stall is read at the stall's end (the time `t` it is read at), not at its arrival. */
  const stallReadAt = (t: number): number => (o.stalled === undefined ? Number.NEGATIVE_INFINITY : t);
  let linkFree = 0;
  for (let t = 0; t <= o.durationMs; t++) {
    for (const st of state) {
      const bps = o.rateBps(st.s.ssrc, t);
      if (bps <= 0) {
        st.nextAt = t + 1;
        continue;
      }
      const interval = ((st.s.packetBytes * 8) / bps) * 1000;
      for (let guard = 0; st.nextAt <= t && guard < 100; guard++) {
        const at = st.nextAt;
        st.nextAt += interval;
        const seq = st.seq++ & 0xffff;
        if (o.paused?.(st.s.ssrc, at) === true) {
          continue; // the publisher's number is used; the trunk does not carry it
        }
        sent.set(st.s.ssrc, (sent.get(st.s.ssrc) ?? 0) + 1);
        const w = Math.floor(at / 500);
        sentBytesPerWindow[w] = (sentBytesPerWindow[w] ?? 0) + st.s.packetBytes;
        const perSsrc = ssrcBytesPerWindow.get(st.s.ssrc)!;
        perSsrc[w] = (perSsrc[w] ?? 0) + st.s.packetBytes;
        if (o.loss !== undefined && random() < o.loss(at)) {
          drop(st.s.ssrc);
          continue;
        }
        const start = Math.max(at + prop, linkFree);
        if (start - (at + prop) > queueMs) {
          drop(st.s.ssrc); // tail drop
          continue;
        }
        linkFree = start + ((st.s.packetBytes * 8) / o.capacityBps(at)) * 1000;
        const head = writeRtpHeader({
          payloadType: 96,
          sequenceNumber: seq,
          timestamp: Math.floor((at * st.s.clockRate) / 1000) >>> 0,
          ssrc: st.s.ssrc,
          marker: false,
          extensions: [{ id: ABS_ID, payload: absSendTime(at) }],
        });
        const bytes = new Uint8Array(Math.max(st.s.packetBytes, head.length));
        bytes.set(head, 0);
        inFlight.push({ at: linkFree, bytes, ssrc: st.s.ssrc });
      }
    }
    while (inFlight.length > 0 && inFlight[0]!.at <= t && o.stalled?.(t) !== true) {
      const p = inFlight.shift()!;
      view.reset(p.bytes);
      rx.onRtp(view, Math.max(p.at, stallReadAt(t)));
      delivered.set(p.ssrc, (delivered.get(p.ssrc) ?? 0) + 1);
    }
    if (t % 100 === 0) {
      const out = rx.tick(t);
      if (out !== undefined) {
        const fb = parseFeedback(out);
        feedback.push({ at: t, fb });
        if (fb.remb !== undefined) {
          rembs.push({ at: t, bps: fb.remb });
        }
        pendingFb.push({ at: t + prop, fb });
      }
    }
    while (pendingFb.length > 0 && pendingFb[0]!.at <= t) {
      const next = pendingFb.shift()!; // (not inside `?.()`: its arguments are skipped without a listener)
      o.onFeedback?.(next.fb, t);
    }
  }
  return { rx, rembs, feedback, sent, delivered, dropped, sentBytesPerWindow, ssrcBytesPerWindow };
}

/** The last REMB sent at or before `at`. */
export function rembAt(r: CcSimResult, at: number): number {
  let v: number | undefined;
  for (const x of r.rembs) {
    if (x.at <= at) {
      v = x.bps;
    }
  }
  if (v === undefined) {
    throw new Error(`no REMB by ${String(at)}`);
  }
  return v;
}
