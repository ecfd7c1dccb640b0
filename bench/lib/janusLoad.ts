/**
 * The bench's load on Janus's VideoRoom (performance.md §2), with the same werift peers and synthetic media as
 * on our SFU: a publisher joins and publishes its offer (`joinandconfigure`), each subscriber joins the feed,
 * answers Janus's offer and sends `start`. Janus puts its candidates in its SDP; ours are trickled.
 */
import type { WeriftPeer } from '../../harness/peers/weriftPeer.js';
import type { LocalCandidate } from '../../harness/peers/types.js';
import type { JanusSession, Json } from './janusClient.js';

const CONNECT_TIMEOUT_MS = 20_000;

export class JanusLoadError extends Error {
  override name = 'JanusLoadError';
}

/** Sends every local candidate `peer` gathers (and the end marker) as Janus `trickle` messages. */
function trickle(s: JanusSession, handle: number, peer: WeriftPeer): { flush: () => Promise<void> } {
  const pending: LocalCandidate[] = [];
  let ready = false;
  const send = (c: LocalCandidate) =>
    s
      .trickle(
        handle,
        c.candidate === ''
          ? { completed: true }
          : { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex },
      )
      .catch(() => undefined);
  peer.onCandidate((c) => {
    if (ready) {
      void send(c);
    } else {
      pending.push(c);
    }
  });
  return {
    flush: async () => {
      ready = true;
      for (const c of pending.splice(0)) {
        await send(c);
      }
    },
  };
}

function jsepOf(e: Json): { type: 'offer' | 'answer'; sdp: string } {
  const j = e['jsep'] as { type?: string; sdp?: string } | undefined;
  if ((j?.type !== 'offer' && j?.type !== 'answer') || typeof j.sdp !== 'string') {
    throw new JanusLoadError(`janus: expected a jsep, got ${JSON.stringify(e).slice(0, 300)}`);
  }
  return { type: j.type, sdp: j.sdp };
}

/** Creates room `room` for one publisher (no FIR, no bitrate cap, VP8 + Opus). */
export async function createRoom(s: JanusSession, room: number): Promise<void> {
  const h = await s.attach();
  const r = await s.message(h, {
    request: 'create',
    room,
    publishers: 1,
    bitrate: 0,
    fir_freq: 0,
    videocodec: 'vp8',
    audiocodec: 'opus',
  });
  const data = (r['plugindata'] as { data?: Json } | undefined)?.data;
  if (data?.['videoroom'] !== 'created') {
    throw new JanusLoadError(`janus: room not created: ${JSON.stringify(r).slice(0, 300)}`);
  }
}

/** Publishes `peer`'s audio + video in `room`; returns the feed id subscribers join. */
export async function publish(s: JanusSession, peer: WeriftPeer, room: number): Promise<number> {
  const h = await s.attach();
  const t = trickle(s, h, peer);
  const offer = await peer.createOffer({ audio: true, video: true });
  await s.message(
    h,
    { request: 'joinandconfigure', room, ptype: 'publisher', audio: true, video: true },
    { type: 'offer', sdp: offer },
  );
  await t.flush();
  const e = await s.event((x) => x['sender'] === h && x['jsep'] !== undefined);
  await peer.setRemoteDescription(jsepOf(e));
  await peer.waitConnected(CONNECT_TIMEOUT_MS);
  const feed = ((e['plugindata'] as { data?: Json } | undefined)?.data?.['id'] as number | undefined) ?? 0;
  if (feed === 0) {
    throw new JanusLoadError('janus: no feed id in the publisher join event');
  }
  return feed;
}

/** Subscribes `peer` to `feed` in `room` (Janus offers, we answer). */
export async function subscribeFeed(
  s: JanusSession,
  peer: WeriftPeer,
  room: number,
  feed: number,
): Promise<void> {
  const h = await s.attach();
  const t = trickle(s, h, peer);
  await s.message(h, { request: 'join', room, ptype: 'subscriber', streams: [{ feed }] });
  const e = await s.event((x) => x['sender'] === h && x['jsep'] !== undefined);
  await peer.setRemoteDescription(jsepOf(e));
  const answer = await peer.createAnswer();
  await s.message(h, { request: 'start' }, { type: 'answer', sdp: answer });
  await t.flush();
  await peer.waitConnected(CONNECT_TIMEOUT_MS);
}
