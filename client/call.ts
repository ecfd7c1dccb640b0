/**
 * A joined call (made by `joinCall`, join.ts): who else is in it (from the focus's metadata), their tracks as
 * they arrive, tile-size subscriptions, the active speaker, and the end. Renegotiation and keep-alive are the data
 * channel session's (dc/session.ts); this class watches the rest — the focus hanging up, the connection or the
 * data channel dropping — and reports each as an `ended` event with a named error. `leave()` hangs up, removes
 * the membership and closes everything, in that order.
 */
import type { CallClient } from './callClient.js';
import type { DcSession } from './dc/session.js';
import type { FocusMessage } from './dc/types.js';
import { Emitter } from './emitter.js';
import {
  CallEndedError,
  DataChannelError,
  FocusRequestError,
  LeaveError,
  MediaConnectionError,
  type CallError,
} from './errors.js';
import { describeError, isObject } from './ids.js';
import type { FocusRef } from './membership.js';
import { METADATA_KEY, metadataFromSdp, type StreamMetadata } from './metadata.js';
import { participantsFrom, type Participant } from './participants.js';
import type { CallPeer } from './peer.js';
import { Publishing, type PublishingPeer } from './publishing.js';
import type { MediaStreamLike } from './webrtcTypes.js';
import { Subscriptions, type Schedule, type TileSize } from './subscriptions.js';
import type { RemoteTrack } from './browserPeer.js';

export interface ActiveSpeaker {
  userId: string;
  deviceId: string;
  streamId: string;
}

export interface CallEnd {
  /** `left` (our `leave()`), or what ended it: the focus's hangup reason, `connection_lost`, `data_channel_closed`. */
  reason: string;
  error: CallError | undefined;
}

export interface CallEvents extends Record<string, unknown> {
  /** The others in the call changed (joined, left, published, muted). */
  participants: Participant[];
  /** A forwarded track arrived (show it in the tile of its `streamId`). */
  track: RemoteTrack;
  activeSpeaker: ActiveSpeaker;
  /** A non-fatal failure (a subscription the focus refused). */
  error: CallError;
  /** The call is over; after an unexpected end the membership is removed and everything closed by itself. */
  ended: CallEnd;
}

/** A peer that reports forwarded tracks (BrowserPeer does). */
interface TrackSource {
  onTrack(cb: (t: RemoteTrack) => void): void;
}
/** A peer that reports its data channel state (BrowserPeer does). */
interface DcStateSource {
  dataChannelState(): string;
}

export interface CallParts {
  client: CallClient;
  dc: DcSession;
  roomId: string;
  focus: FocusRef;
  membershipFormat: 'c' | 'd';
  /** Where the focus came from, and what was skipped on the way. */
  focusSource: 'well-known' | 'configured';
  notes: string[];
  /** Subscription coalescing window (default 200 ms). */
  coalesceMs?: number;
  schedule?: Schedule;
  /** How often the connection and data channel are checked (default 1000 ms). */
  monitorMs?: number;
}

export class Call {
  readonly roomId: string;
  readonly userId: string;
  readonly deviceId: string;
  readonly focus: FocusRef;
  readonly focusSource: 'well-known' | 'configured';
  readonly membershipFormat: 'c' | 'd';
  readonly client: CallClient;
  readonly dc: DcSession;
  /** Things skipped or failed along the way that did not stop the call (bad `.well-known` entries, ...). */
  readonly notes: string[];

  readonly #events = new Emitter<CallEvents>();
  readonly #subs: Subscriptions;
  readonly #tracks = new Map<string, RemoteTrack>();
  readonly #unsubscribers: (() => void)[] = [];
  #metadata: StreamMetadata = {};
  #participants: Participant[] = [];
  #activeSpeaker: ActiveSpeaker | undefined;
  #monitor: ReturnType<typeof setInterval> | undefined;
  #end: CallEnd | undefined;
  #teardown: Promise<string[]> | undefined;
  readonly #publishing: Publishing | undefined;

  constructor(p: CallParts) {
    this.roomId = p.roomId;
    this.userId = p.client.userId;
    this.deviceId = p.client.deviceId;
    this.focus = p.focus;
    this.focusSource = p.focusSource;
    this.membershipFormat = p.membershipFormat;
    this.client = p.client;
    this.dc = p.dc;
    this.notes = p.notes;
    this.#subs = new Subscriptions({
      send: (frame) => {
        this.dc.send(frame, 'A');
      },
      metadata: () => this.#metadata,
      ...(p.coalesceMs === undefined ? {} : { coalesceMs: p.coalesceMs }),
      ...(p.schedule === undefined ? {} : { schedule: p.schedule }),
      onError: (err) => {
        this.notes.push(`subscription not sent: ${describeError(err)}`);
      },
    });
    const answered = p.client.answerContent?.[METADATA_KEY];
    if (isObject(answered)) {
      this.#setMetadata(answered as StreamMetadata);
    }
    for (const m of p.dc.messages) {
      this.#onFocusMessage(m);
    }
    this.#unsubscribers.push(
      p.dc.onMessage((m) => {
        this.#onFocusMessage(m);
      }),
      p.client.onChange(() => {
        this.#checkHangup();
      }),
    );
    const peer = p.client.peer;
    this.#publishing = isPublishingPeer(peer)
      ? new Publishing({
          dc: p.dc,
          peer,
          userId: this.userId,
          deviceId: this.deviceId,
          initial: metadataFromSdp(peer.localSdp, this.userId, this.deviceId) as StreamMetadata,
        })
      : undefined;
    if (isTrackSource(p.client.peer)) {
      p.client.peer.onTrack((t) => {
        this.#tracks.set(`${t.streamId}\u0000${t.trackId}`, t);
        this.#events.emit('track', t);
      });
    }
    this.#monitor = setInterval(() => {
      this.#checkConnection();
    }, p.monitorMs ?? 1000);
    (this.#monitor as { unref?: () => void }).unref?.();
  }

  on<K extends keyof CallEvents>(event: K, fn: (value: CallEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }

  get peer(): CallPeer {
    return this.client.peer;
  }

  /** The others in the call, as the focus last described them. */
  get participants(): readonly Participant[] {
    return this.#participants;
  }

  /** The focus's latest stream metadata (§6). */
  get metadata(): StreamMetadata {
    return this.#metadata;
  }

  get activeSpeaker(): ActiveSpeaker | undefined {
    return this.#activeSpeaker;
  }

  /** Forwarded tracks received so far. */
  get tracks(): readonly RemoteTrack[] {
    return [...this.#tracks.values()];
  }

  /** Set once the call is over. */
  get ended(): CallEnd | undefined {
    return this.#end;
  }

  /** Receive `streamId` for a tile of this size (CSS pixels × devicePixelRatio); rapid changes are coalesced. */
  subscribe(streamId: string, size: TileSize): void {
    this.#subs.subscribe(streamId, size);
  }

  /** Stop receiving `streamId` (its tile is gone). */
  unsubscribe(streamId: string): void {
    this.#subs.unsubscribe(streamId);
  }

  /** Frames the subscriptions sent (for logs and tests). */
  get subscriptionFrames(): readonly string[] {
    return this.#subs.sent;
  }

  /** This client's streams as announced to the focus (camera, and a screen share while one runs). */
  get ownMetadata(): StreamMetadata {
    return this.#publishing?.metadata ?? {};
  }

  /** Whether the camera stream's audio / video is muted. */
  get muted(): { audio: boolean; video: boolean } {
    return this.#publishing?.muted ?? { audio: false, video: false };
  }

  /** Mutes or unmutes the microphone or camera (the track is disabled, the others see the flag). */
  setMuted(kind: 'audio' | 'video', muted: boolean): void {
    this.#needPublishing().setMuted(kind, muted);
  }

  /** Publishes a screen (`getDisplayMedia` stream) as a second stream, purpose `m.screenshare`. */
  shareScreen(stream: MediaStreamLike, size?: { width: number; height: number }): Promise<string> {
    return this.#needPublishing().shareScreen(stream, size);
  }

  /** Stops the screen share, if one runs. */
  stopScreenShare(): Promise<void> {
    return this.#publishing?.stopScreenShare() ?? Promise.resolve();
  }

  /** The screen share's stream id while one is published. */
  get screenShare(): string | undefined {
    return this.#publishing?.screenShare;
  }

  #needPublishing(): Publishing {
    if (this.#publishing === undefined) {
      throw new Error('this call’s peer cannot renegotiate (publishing needs a BrowserPeer)');
    }
    return this.#publishing;
  }

  /**
   * Hangs up (`m.call.hangup` user_hangup), removes the membership, closes sync, peer and camera. Every step is
   * tried, each bounded by the request timeout; rejects with LeaveError listing the steps that failed.
   * `unloading`: the page is going away (`pagehide`): the requests are sent with `keepalive`, so the browser
   * delivers the hangup and the membership removal after the page is gone.
   */
  async leave(opts: { unloading?: boolean } = {}): Promise<void> {
    if (opts.unloading === true) {
      this.client.keepaliveRequests = true;
    }
    if (this.#end === undefined) {
      this.#finish({ reason: 'left', error: undefined });
    }
    const failures = await (this.#teardown ?? Promise.resolve([]));
    if (this.#end?.reason === 'left' && failures.length > 0) {
      throw new LeaveError(failures);
    }
  }

  #finish(end: CallEnd): void {
    if (this.#end !== undefined) {
      return;
    }
    this.#end = end;
    clearInterval(this.#monitor);
    this.#subs.close();
    this.dc.close();
    for (const off of this.#unsubscribers.splice(0)) {
      off();
    }
    this.#teardown = this.#release();
    if (end.reason !== 'left') {
      void this.#teardown.then((failures) => {
        this.notes.push(...failures);
      });
    }
    this.#events.emit('ended', end);
  }

  /** Hangup (unless the focus hung up) and membership removal, both at once; then close; each failure noted. */
  async #release(): Promise<string[]> {
    const failures: string[] = [];
    const call = this.client.call;
    // Both requests start now, before any await: a page that is unloading gets to send both (with keepalive).
    const hangup =
      call !== undefined && call.remoteHangup === undefined && !call.localHangup
        ? this.client.hangup('user_hangup').catch((err: unknown) => {
            failures.push(`hangup: ${describeError(err)}`);
          })
        : Promise.resolve();
    const membership = this.client.leaveMembership(this.roomId).catch((err: unknown) => {
      failures.push(`membership removal: ${describeError(err)}`);
    });
    await Promise.all([hangup, membership]);
    await this.client.close().catch((err: unknown) => {
      failures.push(`close: ${describeError(err)}`);
    });
    this.#events.clear();
    return failures;
  }

  #onFocusMessage(m: FocusMessage): void {
    switch (m.kind) {
      case 'metadata':
        this.#setMetadata(m.metadata);
        break;
      case 'offer':
        if (m.metadata !== undefined) {
          this.#setMetadata(m.metadata);
        }
        break;
      case 'active_speaker':
        this.#activeSpeaker = { userId: m.user_id, deviceId: m.device_id, streamId: m.stream_id };
        this.#events.emit('activeSpeaker', this.#activeSpeaker);
        break;
      case 'ack':
        this.#subs.acked(m.id);
        break;
      case 'error':
        this.#subs.failed(m.id, m.failed);
        this.#events.emit(
          'error',
          new FocusRequestError(
            `the focus refused a request: ${m.errcode} ${m.error}`,
            m.errcode,
            m.failed ?? [],
          ),
        );
        break;
      case 'answer':
      case 'ping':
        break;
    }
  }

  #setMetadata(metadata: StreamMetadata): void {
    const others: StreamMetadata = {};
    for (const [id, s] of Object.entries(metadata)) {
      if (!(s.user_id === this.userId && s.device_id === this.deviceId)) {
        others[id] = s;
      }
    }
    this.#metadata = others;
    this.#participants = participantsFrom(others);
    this.#subs.metadataChanged();
    this.#events.emit('participants', this.#participants);
  }

  #checkHangup(): void {
    const hangup = this.client.call?.remoteHangup;
    if (hangup === undefined || this.#end !== undefined) {
      return;
    }
    const reason = typeof hangup['reason'] === 'string' ? hangup['reason'] : 'unknown_error';
    const err = hangup['org.matrix.msc3898.error'];
    const errcode = isObject(err) && typeof err['errcode'] === 'string' ? err['errcode'] : undefined;
    const text = isObject(err) && typeof err['error'] === 'string' ? `: ${err['error']}` : '';
    this.#finish({
      reason,
      error: new CallEndedError(
        `the focus ended the call (${reason}${errcode === undefined ? '' : ` ${errcode}`}${text})`,
        reason,
        errcode,
      ),
    });
  }

  #checkConnection(): void {
    if (this.#end !== undefined) {
      return;
    }
    const state = this.peer.connectionState();
    if (state === 'failed' || state === 'closed') {
      this.#finish({
        reason: 'connection_lost',
        error: new MediaConnectionError(`the media connection to the focus is ${state}`),
      });
      return;
    }
    const dcState = isDcStateSource(this.peer) ? this.peer.dataChannelState() : 'open';
    if (dcState === 'closed' || dcState === 'closing') {
      this.#finish({
        reason: 'data_channel_closed',
        error: new DataChannelError(`the data channel to the focus is ${dcState}`),
      });
    }
  }
}

function isTrackSource(p: CallPeer): p is CallPeer & TrackSource {
  return typeof (p as Partial<TrackSource>).onTrack === 'function';
}

function isPublishingPeer(p: CallPeer): p is CallPeer & PublishingPeer & { localSdp: string } {
  const q = p as Partial<PublishingPeer & { localSdp: string }>;
  return (
    typeof q.addSendTrack === 'function' &&
    typeof q.renegotiate === 'function' &&
    typeof q.localSdp === 'string'
  );
}

function isDcStateSource(p: CallPeer): p is CallPeer & DcStateSource {
  return typeof (p as Partial<DcStateSource>).dataChannelState === 'function';
}
