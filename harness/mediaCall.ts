/**
 * Media-test flows over the call stack: join with media, learn the others' streams from metadata, subscribe
 * over the data channel (dialect A) and answer every SFU offer automatically, and resize. The data channel is
 * the client's own (client/dc): an independent reading of protocol.md §5, not the SFU's parser.
 */
import { dc, type StreamMetadata } from '../client/index.js';
import { CONF, type CallStack, type TestCallClient } from './callStack.js';
import { ChromiumPeer } from './peers/chromiumPeer.js';
import { RelayedPeer } from './peers/relayedPeer.js';
import type { OfferOptions, TestPeer } from './peers/types.js';
import { WeriftPeer } from './peers/weriftPeer.js';
import { waitFor } from './stack.js';

export interface MediaClient {
  c: TestCallClient;
  /** The client side of the signalling data channel. */
  dc: dc.DcSession;
  msgs: dc.FocusMessage[];
  /** Latest metadata snapshot received. */
  metadata(): StreamMetadata;
  /** SFU offers answered so far. */
  answered(): number;
  /** The client has sent a dialect-A op: from now on it sends `alive` (§5.5). */
  spokeA(): void;
}

/**
 * Joins with the given media, then answers every SFU offer on the data channel, and keeps the session alive
 * like a real client (§5.5): `m.call.pong` to every B ping, and `alive` every 5 s once the client has spoken
 * dialect A (its first subscribe), so calls longer than `keepalive.timeout_s` stay up.
 */
export async function joinWithMedia(
  cs: Pick<CallStack, 'focusRef'>,
  c: TestCallClient,
  media: OfferOptions,
): Promise<MediaClient> {
  const session = new dc.DcSession(c.peer);
  await c.invite({ focus: cs.focusRef, confId: CONF, offerOpts: { dataChannel: true, ...media } });
  await c.waitForAnswer(20_000);
  await c.peer.waitConnected(20_000);
  await c.peer.waitDataChannelOpen(20_000);
  const close = c.close.bind(c);
  c.close = async () => {
    session.close();
    await close();
  };
  return {
    spokeA: () => {
      session.markSpokeA();
    },
    c,
    dc: session,
    msgs: session.messages,
    metadata: () => session.metadata,
    answered: () => session.answered,
  };
}

export interface StreamTracks {
  streamId: string;
  audio: string | undefined;
  video: string | undefined;
}

/** Waits until `mc` knows a stream of `owner` with the wanted kinds. */
export async function streamOf(
  mc: MediaClient,
  owner: string,
  want: { audio?: boolean; video?: boolean },
): Promise<StreamTracks> {
  let found: StreamTracks | undefined;
  await waitFor(
    () => {
      for (const [streamId, s] of Object.entries(mc.metadata())) {
        if (s.user_id !== owner) {
          continue;
        }
        const tracks = Object.entries(s.tracks ?? {});
        const audio = tracks.find(([, x]) => x.kind === 'audio')?.[0];
        const video = tracks.find(([, x]) => x.kind === 'video')?.[0];
        if ((want.audio !== true || audio !== undefined) && (want.video !== true || video !== undefined)) {
          found = { streamId, audio, video };
          return true;
        }
      }
      return false;
    },
    20_000,
    `${owner}'s stream in the metadata`,
  );
  return found!;
}

/**
 * Sends one dialect-A request frame carrying `id` and waits for its reply (`ack` or `error`); resolves with the
 * `error` message, or undefined for an `ack`.
 */
export async function request(
  mc: MediaClient,
  frame: string,
  id: string,
): Promise<dc.FocusMessage | undefined> {
  mc.dc.send(frame, 'A');
  await waitFor(
    () => mc.msgs.some((m) => (m.kind === 'ack' || m.kind === 'error') && m.id === id),
    15_000,
    `reply to ${id}`,
  );
  return mc.msgs.find((m) => m.kind === 'error' && m.id === id);
}

/** Subscribes (dialect A) and waits until the SFU offer that adds the m-lines was answered. */
export async function subscribe(
  mc: MediaClient,
  tracks: { stream_id: string; track_id: string; width?: number; height?: number }[],
  id: string,
): Promise<void> {
  const before = mc.answered();
  const err = await request(mc, dc.subscribeFrame('A', tracks, id), id);
  if (err !== undefined) {
    throw new Error(`subscribe ${id} failed: ${JSON.stringify(err)}`);
  }
  await waitFor(() => mc.answered() > before, 15_000, `SFU offer for ${id} answered`);
}

/** A resize: only re-picks the layer (no offer). */
export function resize(
  mc: MediaClient,
  streamId: string,
  trackId: string,
  w: number,
  h: number,
  id: string,
): void {
  mc.dc.send(
    dc.subscribeFrame('A', [{ stream_id: streamId, track_id: trackId, width: w, height: h }], id),
    'A',
  );
}

/** The real peer behind a RelayedPeer. */
function unwrap(p: TestPeer): TestPeer {
  return p instanceof RelayedPeer ? p.inner : p;
}

export function asWerift(peer: TestPeer): WeriftPeer {
  const p = unwrap(peer);
  if (!(p instanceof WeriftPeer)) {
    throw new Error(`expected a werift peer, got ${p.kind}`);
  }
  return p;
}

export function asChromium(peer: TestPeer): ChromiumPeer {
  const p = unwrap(peer);
  if (!(p instanceof ChromiumPeer)) {
    throw new Error(`expected a Chromium peer, got ${p.kind}`);
  }
  return p;
}
