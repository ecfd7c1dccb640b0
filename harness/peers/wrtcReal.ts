/**
 * The real @roamhq/wrtc (libwebrtc in Node) test client peer. Only the child process (wrtcChild.ts) imports
 * this file: libwebrtc can crash a process with SIGSEGV at exit, so the test process talks to it through the
 * proxy in wrtcPeer.ts. Audio and video come from the nonstandard sources:
 * a 440 Hz tone in 10 ms chunks and synthetic I420 frames (640×360, or 1280×720 for simulcast so that all
 * three layers encode) at 15 fps, each on an interval that is cleared on close. libwebrtc gathers every
 * interface; only UDP candidates on 127.0.0.1 are announced.
 */
import wrtcModule from '@roamhq/wrtc';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  connectionFailure,
  dataChannelLabel,
  HeldCandidates,
  PeerEvents,
  SIMULCAST_LAYERS,
  simulcastWanted,
  trickleSdp,
} from './common.js';
import type { LocalCandidate, OfferOptions, RemoteCandidate, TestPeer } from './types.js';

// The package's types re-export DOM globals, which this project's lib (ES2023, no DOM) does not have, so the
// part of the API used here is described locally.
interface WDescription {
  type: string;
  sdp: string;
}
interface WIceCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}
interface WDataChannel {
  readonly label: string;
  readonly readyState: string;
  binaryType: string;
  send(data: string): void;
  close(): void;
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
}
interface WTrack {
  readonly id: string;
  readonly kind: string;
  stop(): void;
}
type WStream = object;
interface WTransceiverInit {
  direction?: string;
  streams?: WStream[];
  sendEncodings?: { rid?: string; scaleResolutionDownBy?: number }[];
}
interface WPeerConnection {
  readonly connectionState: string;
  readonly localDescription: WDescription | null;
  onicecandidate: ((e: { candidate: WIceCandidate | null }) => void) | null;
  onconnectionstatechange: (() => void) | null;
  ondatachannel: ((e: { channel: WDataChannel }) => void) | null;
  createDataChannel(label: string): WDataChannel;
  addTransceiver(track: WTrack, init?: WTransceiverInit): unknown;
  createOffer(): Promise<WDescription>;
  createAnswer(): Promise<WDescription>;
  setLocalDescription(d: WDescription): Promise<void>;
  setRemoteDescription(d: WDescription): Promise<void>;
  addIceCandidate(c: Record<string, unknown>): Promise<void>;
  close(): void;
}
interface WrtcModule {
  RTCPeerConnection: new (config: { iceServers: never[]; bundlePolicy: string }) => WPeerConnection;
  MediaStream: new (tracks?: WTrack[]) => WStream;
  nonstandard: {
    RTCVideoSource: new () => {
      createTrack(): WTrack;
      onFrame(frame: { width: number; height: number; data: Uint8Array }): void;
    };
    RTCAudioSource: new () => {
      createTrack(): WTrack;
      onData(data: {
        samples: Int16Array;
        sampleRate: number;
        bitsPerSample: number;
        channelCount: number;
        numberOfFrames: number;
      }): void;
    };
  };
}

const wrtc = wrtcModule as unknown as WrtcModule;

/**
 * libwebrtc's N-API objects (audio/video sources and their tracks) crash the process with SIGSEGV while Node
 * tears the environment down at exit unless they were garbage-collected before (node-webrtc issue #636, still
 * present in @roamhq/wrtc 0.10.0). So a closed peer drops every reference to its native objects, and the
 * first peer with a source registers one full GC in the process's `exit` handler.
 */
let exitGcArmed = false;
function armExitGc(): void {
  if (exitGcArmed) {
    return;
  }
  exitGcArmed = true;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  process.once('exit', () => {
    gc();
  });
}

const SAMPLE_RATE = 48_000;
const AUDIO_CHUNK_MS = 10;
const VIDEO_FPS = 15;

export class RealWrtcPeer implements TestPeer {
  readonly kind = 'wrtc' as const;
  /** Dropped on close (see armExitGc). */
  #pc: WPeerConnection | undefined;
  readonly #held = new HeldCandidates<RemoteCandidate>();
  readonly #events = new PeerEvents('wrtc peer');
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #tracks: WTrack[] = [];
  #dc: WDataChannel | undefined;
  #onChange: (() => void) | undefined;

  constructor() {
    const pc = new wrtc.RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
    this.#pc = pc;
    pc.onicecandidate = (e) => {
      const c = e.candidate;
      const local: LocalCandidate = { candidate: c?.candidate ?? '' };
      if (c?.sdpMid != null) {
        local.sdpMid = c.sdpMid;
      }
      if (c?.sdpMLineIndex != null) {
        local.sdpMLineIndex = c.sdpMLineIndex;
      }
      this.#events.candidate(local);
    };
    pc.onconnectionstatechange = () => {
      this.#changed();
    };
    pc.ondatachannel = (e) => {
      if (this.#dc === undefined) {
        this.#adopt(e.channel);
      }
    };
  }

  async createOffer(opts: OfferOptions): Promise<string> {
    const tracks: WTrack[] = [];
    if (opts.audio === true) {
      tracks.push(this.#audioTrack());
    }
    const simulcast = simulcastWanted(opts.video);
    if (opts.video !== undefined && opts.video !== false) {
      tracks.push(this.#videoTrack(simulcast ? 1280 : 640, simulcast ? 720 : 360));
    }
    const stream = new wrtc.MediaStream(tracks);
    for (const track of tracks) {
      this.#live.addTransceiver(track, {
        direction: 'sendonly',
        streams: [stream],
        ...(track.kind === 'video' && simulcast
          ? { sendEncodings: SIMULCAST_LAYERS.map((l) => ({ ...l })) }
          : {}),
      });
    }
    const label = dataChannelLabel(opts.dataChannel);
    if (label !== undefined) {
      this.#adopt(this.#live.createDataChannel(label));
    }
    await this.#live.setLocalDescription(await this.#live.createOffer());
    return trickleSdp(this.#live.localDescription!.sdp);
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    await this.#live.setRemoteDescription({ type: d.type, sdp: d.sdp });
    await this.#held.release((c) => this.#apply(c));
  }

  async createAnswer(): Promise<string> {
    await this.#live.setLocalDescription(await this.#live.createAnswer());
    return trickleSdp(this.#live.localDescription!.sdp);
  }

  addIceCandidate(c: RemoteCandidate): Promise<void> {
    return this.#held.add(c, (x) => this.#apply(x));
  }

  async #apply(c: RemoteCandidate): Promise<void> {
    const init: Record<string, unknown> = { candidate: c.candidate };
    if (c.sdpMid != null) {
      init['sdpMid'] = c.sdpMid;
    }
    if (c.sdpMLineIndex != null) {
      init['sdpMLineIndex'] = c.sdpMLineIndex;
    }
    if (c.candidate === '' && init['sdpMid'] === undefined && init['sdpMLineIndex'] === undefined) {
      // An end-of-candidates marker needs a media section to refer to; libwebrtc wants one of the two.
      init['sdpMLineIndex'] = 0;
    }
    if (c.usernameFragment != null) {
      init['usernameFragment'] = c.usernameFragment;
    }
    await this.#live.addIceCandidate(init);
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#events.onCandidate(cb);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'connected',
      timeoutMs,
      () => this.connectionState() === 'connected',
      () => connectionFailure(this.connectionState()),
    );
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'data channel open',
      timeoutMs,
      () => this.#dc?.readyState === 'open',
      () =>
        this.#dc?.readyState === 'closed' ? 'data channel closed' : connectionFailure(this.connectionState()),
    );
  }

  sendData(text: string): void {
    if (this.#dc?.readyState !== 'open') {
      throw new Error(`wrtc peer: data channel is ${this.#dc?.readyState ?? 'absent'}`);
    }
    this.#dc.send(text);
  }

  onData(cb: (text: string) => void): void {
    this.#events.onData(cb);
  }

  connectionState(): string {
    return this.#pc?.connectionState ?? 'closed';
  }

  async close(): Promise<void> {
    const pc = this.#pc;
    if (pc === undefined) {
      return;
    }
    this.#pc = undefined;
    for (const timer of this.#timers) {
      clearInterval(timer);
    }
    this.#timers.length = 0;
    this.#events.shutdown();
    for (const track of this.#tracks) {
      track.stop();
    }
    this.#tracks.length = 0;
    pc.onicecandidate = null;
    pc.onconnectionstatechange = null;
    pc.ondatachannel = null;
    if (this.#dc !== undefined) {
      this.#dc.onopen = null;
      this.#dc.onclose = null;
      this.#dc.onmessage = null;
      this.#dc = undefined;
    }
    pc.close();
  }

  /** The signalling data channel's readyState, if there is one. */
  dataChannelState(): string | undefined {
    return this.#dc?.readyState;
  }

  /** Called after every connection or data channel state change (one callback; the child relays it). */
  onChange(cb: () => void): void {
    this.#onChange = cb;
  }

  #changed(): void {
    this.#events.changed();
    this.#onChange?.();
  }

  get #live(): WPeerConnection {
    if (this.#pc === undefined) {
      throw new Error('wrtc peer: closed');
    }
    return this.#pc;
  }

  #adopt(dc: WDataChannel): void {
    this.#dc = dc;
    dc.binaryType = 'arraybuffer';
    dc.onopen = () => {
      this.#changed();
    };
    dc.onclose = () => {
      this.#changed();
    };
    dc.onmessage = (e) => {
      const data = e.data;
      this.#events.data(typeof data === 'string' ? data : Buffer.from(data as ArrayBuffer).toString('utf8'));
    };
    this.#changed();
  }

  /** A 440 Hz tone, 10 ms per chunk. */
  #audioTrack(): WTrack {
    armExitGc();
    const source = new wrtc.nonstandard.RTCAudioSource();
    const track = source.createTrack();
    this.#tracks.push(track);
    const frames = (SAMPLE_RATE * AUDIO_CHUNK_MS) / 1000;
    let t = 0;
    this.#timers.push(
      setInterval(() => {
        const samples = new Int16Array(frames);
        for (let i = 0; i < frames; i++) {
          samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * t++) / SAMPLE_RATE));
        }
        source.onData({
          samples,
          sampleRate: SAMPLE_RATE,
          bitsPerSample: 16,
          channelCount: 1,
          numberOfFrames: frames,
        });
      }, AUDIO_CHUNK_MS),
    );
    return track;
  }

  /** I420 frames: a luma ramp that moves every frame over neutral chroma. */
  #videoTrack(width: number, height: number): WTrack {
    armExitGc();
    const source = new wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    this.#tracks.push(track);
    const data = new Uint8Array((width * height * 3) / 2);
    data.fill(128, width * height);
    let n = 0;
    this.#timers.push(
      setInterval(
        () => {
          const shift = (n++ * 4) % 256;
          for (let y = 0; y < height; y++) {
            const row = y * width;
            for (let x = 0; x < width; x += 16) {
              data.fill((x + y + shift) & 0xff, row + x, row + x + 16);
            }
          }
          source.onFrame({ width, height, data });
        },
        Math.round(1000 / VIDEO_FPS),
      ),
    );
    return track;
  }
}
