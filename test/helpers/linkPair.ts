/**
 * Two LinkPeers (src/media/link) connected to each other on 127.0.0.1 in one process: offer, answer and
 * candidates handed over directly (no to-device), each side with its own MediaCounters so what one side counts
 * is told apart from the other. Resolves once both are connected and the link's data channel is open on both.
 */
import { pino } from 'pino';
import { LinkPeer } from '../../src/media/link/linkPeer.js';
import { MediaCounters } from '../../src/media/mediaMetrics.js';
import type { MediaContext } from '../../src/media/peerMedia.js';
import { systemClock } from '../../src/util/clock.js';
import { testConfig } from '../../harness/sfu.js';
import { waitFor } from '../../harness/stack.js';
import { PublisherRemb } from '../../src/media/publisherRemb.js';
import { PublishedTrack } from '../../src/media/publishedTrack.js';

export interface LinkSide {
  peer: LinkPeer;
  ctx: MediaContext;
  counters: MediaCounters;
  dcOpen: () => boolean;
  messages: (string | Uint8Array)[];
}

export function linkSide(pliMinIntervalMs = 500, keepLowestLayer = false): LinkSide {
  const counters = new MediaCounters();
  const ctx: MediaContext = {
    clock: systemClock,
    counters,
    log: pino({ level: 'silent' }),
    pliMinIntervalMs,
    publisherRemb: new PublisherRemb(1_000_000, false),
    skipUnwatched: true,
  };
  const media = testConfig({ media: { bind_address: '127.0.0.1' } }).media;
  const peer = new LinkPeer(media, ctx, { maxLinkBps: 20_000_000, keepLowestLayer });
  let open = false;
  const messages: (string | Uint8Array)[] = [];
  peer.on('dcopen', () => {
    open = true;
  });
  peer.on('dcmessage', (m) => {
    messages.push(m);
  });
  return { peer, ctx, counters, dcOpen: () => open, messages };
}

/** Offer from `a`, answer from `b`, candidates both ways; waits for connected + data channel open. */
export async function connectLink(a: LinkSide, b: LinkSide, timeoutMs = 20_000): Promise<void> {
  const offer = await a.peer.offer();
  const answer = await b.peer.answer(offer);
  await a.peer.acceptAnswer(answer);
  for (const c of a.peer.localCandidates()) {
    await b.peer.addRemoteCandidate(c);
  }
  for (const c of b.peer.localCandidates()) {
    await a.peer.addRemoteCandidate(c);
  }
  await waitFor(
    () => a.peer.state === 'connected' && b.peer.state === 'connected' && a.dcOpen() && b.dcOpen(),
    timeoutMs,
    'both link peers connected with the data channel open',
  );
}

export async function linkPair(pliMinIntervalMs = 500): Promise<{
  a: LinkSide;
  b: LinkSide;
  close: () => Promise<void>;
}> {
  const a = linkSide(pliMinIntervalMs);
  const b = linkSide(pliMinIntervalMs);
  const close = async () => {
    await a.peer.close();
    await b.peer.close();
  };
  try {
    await connectLink(a, b);
  } catch (e) {
    await close();
    throw e;
  }
  return { a, b, close };
}

/** The codecs of {@link sourceTrack}'s tracks. */
export const VP8_CODEC = { payloadType: 96, mimeType: 'video/VP8', clockRate: 90000 };
export const OPUS_CODEC = { payloadType: 109, mimeType: 'audio/opus', clockRate: 48000 };
const VP8_LIST = [VP8_CODEC];
const OPUS_LIST = [OPUS_CODEC];
const NO_EXTENSIONS: { uri: string; id: number }[] = [];

/**
 * A local published track to send on a link in these tests: VP8 (payload type 96) with `rids` for video, Opus
 * (109) for audio; no header extensions, its own counters, silent log, the system clock.
 */
export function sourceTrack(o: {
  kind: 'audio' | 'video';
  mid: string;
  rids?: string[];
  pliMinIntervalMs?: number;
  requestKeyframe?: (ssrc: number) => void;
}): PublishedTrack {
  return new PublishedTrack({
    kind: o.kind,
    mid: o.mid,
    rids: o.rids ?? [],
    restrictions: new Map(),
    clock: systemClock,
    counters: new MediaCounters(),
    log: pino({ level: 'silent' }),
    pliMinIntervalMs: o.pliMinIntervalMs ?? 500,
    codecs: o.kind === 'video' ? () => VP8_LIST : () => OPUS_LIST, // one array, as werift's transceiver keeps
    extensions: () => NO_EXTENSIONS,
    requestKeyframe: o.requestKeyframe ?? (() => undefined),
  });
}
