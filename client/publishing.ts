/**
 * What this client sends (protocol.md §5.2, §6): its own stream metadata, mute flags, and a screen share as a
 * second stream. Mute disables the local track (the browser sends silence / black frames, the connection stays)
 * and announces `audio_muted` / `video_muted` with the `metadata` op; a screen share adds a send-only track
 * and offers it with `publish` (purpose `m.screenshare`), its removal stops the transceiver and offers that
 * with `unpublish`; each waits for the focus's `answer` (or `error`) with its id, within `timeoutMs`, while
 * focus offers wait (`DcSession.exclusive`).
 */
import type { DcSession } from './dc/session.js';
import type { FocusMessage } from './dc/types.js';
import { metadataFrame, publishFrame, unpublishFrame } from './dc/write.js';
import { PublishError } from './errors.js';
import type { StreamInfo, StreamMetadata } from './metadata.js';
import type { MediaStreamLike, MediaStreamTrackLike } from './webrtcTypes.js';

/** What publishing needs of the peer (BrowserPeer has it). */
export interface PublishingPeer {
  /** The camera/microphone stream the call was joined with. */
  readonly localStream: MediaStreamLike | undefined;
  /** Adds a send-only track; the handle removes it. */
  addSendTrack(track: MediaStreamTrackLike, stream: MediaStreamLike): unknown;
  removeSendTrack(handle: unknown): void;
  /** A new local offer (set as local description), without candidates. */
  renegotiate(): Promise<string>;
  setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void>;
}

export interface PublishingOptions {
  readonly dc: DcSession;
  readonly peer: PublishingPeer;
  readonly userId: string;
  readonly deviceId: string;
  /** The metadata the invite announced (from its offer). */
  readonly initial: StreamMetadata;
  readonly timeoutMs?: number;
}

interface Share {
  readonly streamId: string;
  readonly trackId: string;
  readonly handle: unknown;
  readonly track: MediaStreamTrackLike;
}

export class Publishing {
  readonly #o: PublishingOptions;
  #metadata: StreamMetadata;
  #share: Share | undefined;
  #n = 0;

  constructor(o: PublishingOptions) {
    this.#o = o;
    this.#metadata = structuredClone(o.initial);
  }

  /** This client's streams as announced now. */
  get metadata(): StreamMetadata {
    return this.#metadata;
  }

  get muted(): { audio: boolean; video: boolean } {
    const s = this.#camera();
    return { audio: s?.[1].audio_muted === true, video: s?.[1].video_muted === true };
  }

  /** The screen share's stream id while one is published. */
  get screenShare(): string | undefined {
    return this.#share?.streamId;
  }

  /** Mutes or unmutes the camera stream's audio or video: the track is disabled and the flag announced. */
  setMuted(kind: 'audio' | 'video', muted: boolean): void {
    for (const t of this.#o.peer.localStream?.getTracks() ?? []) {
      if (t.kind === kind) {
        t.enabled = !muted;
      }
    }
    const cam = this.#camera();
    if (cam === undefined) {
      return;
    }
    const [id, info] = cam;
    this.#metadata = { ...this.#metadata, [id]: { ...info, [`${kind}_muted`]: muted } };
    this.#o.dc.send(metadataFrame('A', this.#metadata, this.#nextId('meta')), 'A');
  }

  /** Publishes the first video track of `stream` (from `getDisplayMedia`) as an `m.screenshare` stream. */
  async shareScreen(stream: MediaStreamLike, size?: { width: number; height: number }): Promise<string> {
    if (this.#share !== undefined) {
      throw new PublishError('a screen share is already published', undefined);
    }
    const track = stream.getTracks().find((t) => t.kind === 'video');
    if (track === undefined) {
      throw new PublishError('the shared screen has no video track', undefined);
    }
    const info: StreamInfo = {
      user_id: this.#o.userId,
      device_id: this.#o.deviceId,
      purpose: 'm.screenshare',
      audio_muted: true,
      video_muted: false,
      tracks: { [track.id]: { kind: 'video', ...(size === undefined ? {} : size) } },
    };
    return this.#o.dc.exclusive(async () => {
      const handle = this.#o.peer.addSendTrack(track, stream);
      const sdp = await this.#o.peer.renegotiate();
      const id = this.#nextId('pub');
      const reply = this.#reply(id);
      this.#o.dc.send(publishFrame(sdp, { [stream.id]: info }, id), 'A');
      try {
        const answer = await reply;
        await this.#o.peer.setRemoteDescription({ type: 'answer', sdp: answer });
      } catch (err) {
        this.#o.peer.removeSendTrack(handle);
        throw err;
      }
      this.#share = { streamId: stream.id, trackId: track.id, handle, track };
      this.#metadata = { ...this.#metadata, [stream.id]: info };
      return stream.id;
    });
  }

  /** Stops the screen share (the track too) and tells the focus with `unpublish`. */
  async stopScreenShare(): Promise<void> {
    const share = this.#share;
    if (share === undefined) {
      return;
    }
    this.#share = undefined;
    const { [share.streamId]: _gone, ...rest } = this.#metadata;
    this.#metadata = rest;
    share.track.stop();
    await this.#o.dc.exclusive(async () => {
      this.#o.peer.removeSendTrack(share.handle);
      const sdp = await this.#o.peer.renegotiate();
      const id = this.#nextId('unpub');
      const reply = this.#reply(id);
      this.#o.dc.send(unpublishFrame([{ stream_id: share.streamId, track_id: share.trackId }], sdp, id), 'A');
      await this.#o.peer.setRemoteDescription({ type: 'answer', sdp: await reply });
    });
  }

  #camera(): [string, StreamInfo] | undefined {
    const entries = Object.entries(this.#metadata);
    return entries.find(([, s]) => s.purpose !== 'm.screenshare') ?? entries[0];
  }

  #nextId(prefix: string): string {
    this.#n++;
    return `${prefix}-${String(this.#n)}`;
  }

  /** The SDP of the focus's `answer` with this id; rejects on its `error` or after the timeout. */
  #reply(id: string): Promise<string> {
    const timeoutMs = this.#o.timeoutMs ?? 10_000;
    return new Promise<string>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
      };
      const timer = setTimeout(() => {
        off();
        reject(new PublishError(`no answer from the focus within ${String(timeoutMs)} ms`, undefined));
      }, timeoutMs);
      const off = this.#o.dc.onMessage((m: FocusMessage) => {
        if (m.kind === 'answer' && m.id === id) {
          done();
          resolve(m.sdp);
        } else if (m.kind === 'error' && m.id === id) {
          done();
          reject(new PublishError(`the focus refused: ${m.errcode} ${m.error}`, m.errcode));
        }
      });
    });
  }
}
