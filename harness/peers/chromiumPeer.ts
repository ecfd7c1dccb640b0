/**
 * Chromium (Debian's /usr/bin/chromium driven by playwright-core) as a test client peer: each peer is a page
 * running an RTCPeerConnection, driven with `page.evaluate` and reporting back through `page.exposeFunction`.
 * One browser is shared by reference count: `launchBrowser()`/`closeBrowser()` hold it for a test file, and each
 * peer holds it while open. Camera and microphone are Chromium's fake devices (1280×720 video).
 *
 * The page is a secure context (`http://localhost/`, answered by request interception, so nothing is fetched):
 * there Chromium exposes `getUserMedia` and gathers on every adapter, including 127.0.0.1 with
 * `--allow-loopback-in-peer-connection`, without mDNS names. Only UDP candidates on 127.0.0.1 are announced.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  connectionFailure,
  dataChannelLabel,
  HeldCandidates,
  PeerEvents,
  SIMULCAST_LAYERS,
  trickleSdp,
} from './common.js';
import type { LocalCandidate, OfferOptions, RemoteCandidate, TestPeer } from './types.js';

/** Debian's Chromium; `TEST_CHROMIUM_PATH` overrides it. */
export const CHROMIUM_PATH = process.env['TEST_CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** werift-notes §5, plus no mDNS host names. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];
const LAUNCH_TIMEOUT_MS = 15_000;

/**
 * Why Chromium did not start, in one line: a missing browser says how to install it (the tests that need a
 * browser fail with this, not with Playwright's launch log); otherwise the first line of Playwright's error.
 */
export function chromiumLaunchFailure(path: string, exists: boolean, err: unknown): string {
  if (!exists) {
    return (
      `Chromium is not installed at ${path}: the browser tests need it — ` +
      '`apt-get install -y chromium` (Debian/Ubuntu), or set TEST_CHROMIUM_PATH to a Chromium or Chrome binary'
    );
  }
  // Playwright appends the whole launch log; its first line says what went wrong.
  const first = (err instanceof Error ? err.message : String(err)).split('\n', 1)[0];
  return `Chromium failed to launch (${path}): ${first}`;
}
const PAGE_TIMEOUT_MS = 15_000;
const PAGE_URL = 'http://localhost/__test_peer';

interface SharedBrowser {
  browser: Promise<Browser>;
  refs: number;
}
let shared: SharedBrowser | undefined;

/** A failed launch is not retried within the process: the next tests fail at once with the same error. */
let launchFailure: Error | undefined;

function acquire(): { entry: SharedBrowser; browser: Promise<Browser> } {
  if (shared === undefined) {
    const browser =
      launchFailure !== undefined
        ? Promise.reject(launchFailure)
        : chromium
            .launch({
              executablePath: CHROMIUM_PATH,
              args: CHROMIUM_ARGS,
              headless: true,
              timeout: LAUNCH_TIMEOUT_MS,
            })
            .catch((err: unknown) => {
              launchFailure = new Error(chromiumLaunchFailure(CHROMIUM_PATH, existsSync(CHROMIUM_PATH), err));
              killStrayBrowsers();
              throw launchFailure;
            });
    const entry: SharedBrowser = { refs: 0, browser };
    browser.catch(() => {
      if (shared === entry) {
        shared = undefined;
      }
    });
    shared = entry;
  }
  shared.refs++;
  return { entry: shared, browser: shared.browser };
}

/**
 * After a launch timeout Playwright leaves a hung browser process running, and its pipes keep this process from
 * exiting. Kill our own child processes that Playwright launched (its pipe flag and profile directory in the
 * command line), with their process group (Playwright starts them detached).
 */
function killStrayBrowsers(): void {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (
        ppid === process.pid &&
        argv.includes('--remote-debugging-pipe') &&
        argv.some((a) => a.startsWith('--user-data-dir=') && a.includes('playwright_chromiumdev_profile'))
      ) {
        try {
          process.kill(-Number(pid), 'SIGKILL');
        } catch {
          process.kill(Number(pid), 'SIGKILL');
        }
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}

async function release(entry: SharedBrowser): Promise<void> {
  entry.refs--;
  if (entry.refs > 0) {
    return;
  }
  if (shared === entry) {
    shared = undefined;
  }
  const browser = await entry.browser.catch(() => undefined);
  await browser?.close();
}

let fileRefs: SharedBrowser[] = [];

/**
 * Launches (or shares) the browser and holds it until `closeBrowser()` (one hold however often it is called);
 * rejects with a clear message if Chromium cannot start.
 */
export async function launchBrowser(): Promise<Browser> {
  if (shared !== undefined && fileRefs.includes(shared)) {
    return shared.browser;
  }
  const { entry, browser } = acquire();
  fileRefs.push(entry);
  return browser;
}

/** Drops the holds taken by `launchBrowser()`; the browser closes once no peer uses it either. */
export async function closeBrowser(): Promise<void> {
  const refs = fileRefs;
  fileRefs = [];
  for (const entry of refs) {
    await release(entry);
  }
}

/** What the page reports through the exposed `__peerEvent` binding. */
type PageEvent =
  | { t: 'candidate'; c: { candidate: string; sdpMid: string | null; sdpMLineIndex: number | null } | null }
  | { t: 'state'; state: string }
  | { t: 'dc'; state: string }
  | { t: 'data'; text: string };

/** The in-page API installed by PAGE_SCRIPT (its types only; the page knows nothing of TypeScript). */
interface PagePeer {
  createOffer(o: {
    audio: boolean;
    video: boolean;
    simulcast: boolean;
    label: string | null;
  }): Promise<string>;
  setRemote(d: { type: string; sdp: string }): Promise<void>;
  createAnswer(): Promise<string>;
  addIce(c: Record<string, unknown>): Promise<void>;
  send(text: string): void;
  stats(): Promise<RtpStats[]>;
  setLayerActive(rid: string, active: boolean): Promise<void>;
  close(): void;
}

/** The getStats fields the media tests read (inbound-rtp for received media, outbound-rtp per rid). */
export interface RtpStats {
  type: 'inbound-rtp' | 'outbound-rtp';
  kind: string;
  mid?: string;
  rid?: string;
  ssrc: number;
  packets: number;
  packetsLost?: number;
  framesDecoded?: number;
  framesDropped?: number;
  freezeCount?: number;
  /** Seconds spent frozen (Chromium: inter-frame delay over max(3 × average, average + 150 ms)). */
  totalFreezesDuration?: number;
  keyFramesDecoded?: number;
  frameWidth?: number;
  frameHeight?: number;
  qualityLimitationReason?: string;
  /** outbound-rtp: frames the encoder produced for this layer, and payload bytes sent (padding included). */
  framesEncoded?: number;
  bytes?: number;
}
interface PageGlobal {
  __peer: PagePeer | undefined;
}

const PAGE_SCRIPT = `(() => {
  const LAYERS = ${JSON.stringify(SIMULCAST_LAYERS)};
  const emit = (ev) => { window.__peerEvent(ev).catch(() => {}); };
  const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle' });
  const streams = [];
  let dc = null;
  const adopt = (ch) => {
    dc = ch;
    ch.binaryType = 'arraybuffer';
    const state = () => emit({ t: 'dc', state: ch.readyState });
    ch.onopen = state;
    ch.onclose = state;
    ch.onmessage = (e) => emit({ t: 'data', text: typeof e.data === 'string' ? e.data : new TextDecoder().decode(e.data) });
    state();
  };
  pc.onicecandidate = (e) => emit({ t: 'candidate', c: e.candidate ? {
    candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex } : null });
  pc.onconnectionstatechange = () => emit({ t: 'state', state: pc.connectionState });
  pc.ondatachannel = (e) => { if (dc === null) { adopt(e.channel); } };
  // Received video is rendered (muted, autoplay) so the page decodes it as a real client does.
  pc.ontrack = (e) => {
    const el = document.createElement(e.track.kind === 'video' ? 'video' : 'audio');
    el.muted = true; el.autoplay = true; el.playsInline = true;
    el.srcObject = new MediaStream([e.track]);
    document.body.appendChild(el);
    el.play().catch(() => {});
  };
  window.__peer = {
    async createOffer(o) {
      if (o.audio || o.video) {
        const s = await navigator.mediaDevices.getUserMedia({
          audio: o.audio, video: o.video ? { width: 1280, height: 720 } : false });
        streams.push(s);
        for (const track of [...s.getAudioTracks(), ...s.getVideoTracks()]) {
          const init = { direction: 'sendonly', streams: [s] };
          if (track.kind === 'video' && o.simulcast) {
            init.sendEncodings = LAYERS.map((l) => ({ ...l }));
          }
          pc.addTransceiver(track, init);
        }
      }
      if (o.label !== null) {
        adopt(pc.createDataChannel(o.label));
      }
      await pc.setLocalDescription(await pc.createOffer());
      return pc.localDescription.sdp;
    },
    async setRemote(d) { await pc.setRemoteDescription(d); },
    async createAnswer() {
      await pc.setLocalDescription(await pc.createAnswer());
      return pc.localDescription.sdp;
    },
    async addIce(c) { await pc.addIceCandidate(c); },
    send(text) {
      if (dc === null || dc.readyState !== 'open') {
        throw new Error('data channel is ' + (dc === null ? 'absent' : dc.readyState));
      }
      dc.send(text);
    },
    async stats() {
      const out = [];
      (await pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp') {
          out.push({ type: r.type, kind: r.kind, mid: r.mid, ssrc: r.ssrc, packets: r.packetsReceived,
            packetsLost: r.packetsLost, framesDecoded: r.framesDecoded, framesDropped: r.framesDropped,
            freezeCount: r.freezeCount, totalFreezesDuration: r.totalFreezesDuration,
            keyFramesDecoded: r.keyFramesDecoded, frameWidth: r.frameWidth,
            frameHeight: r.frameHeight });
        } else if (r.type === 'outbound-rtp') {
          out.push({ type: r.type, kind: r.kind, mid: r.mid, rid: r.rid, ssrc: r.ssrc, packets: r.packetsSent,
            framesEncoded: r.framesEncoded, bytes: r.bytesSent,
            frameWidth: r.frameWidth, frameHeight: r.frameHeight,
            qualityLimitationReason: r.qualityLimitationReason });
        }
      });
      return out;
    },
    async setLayerActive(rid, active) {
      const sender = pc.getSenders().find((x) => x.track && x.track.kind === 'video');
      if (!sender) { throw new Error('no video sender'); }
      const p = sender.getParameters();
      const enc = p.encodings.find((e) => e.rid === rid);
      if (!enc) { throw new Error('no encoding ' + rid); }
      enc.active = active;
      await sender.setParameters(p);
    },
    close() {
      for (const s of streams) { for (const t of s.getTracks()) { t.stop(); } }
      if (dc !== null) { dc.close(); }
      pc.close();
    },
  };
})()`;

export class ChromiumPeer implements TestPeer {
  readonly kind = 'chromium' as const;
  readonly #page: Page;
  readonly #entry: SharedBrowser;
  readonly #held = new HeldCandidates<RemoteCandidate>();
  readonly #events = new PeerEvents('chromium peer');
  #state = 'new';
  #dcState: string | undefined;
  #sendChain: Promise<void> = Promise.resolve();
  #sendError: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(page: Page, entry: SharedBrowser) {
    this.#page = page;
    this.#entry = entry;
  }

  /** Opens a page in the shared browser (launching it if needed). */
  static async create(): Promise<ChromiumPeer> {
    const { entry, browser: launching } = acquire();
    let page: Page | undefined;
    try {
      const browser = await launching;
      page = await browser.newPage();
      page.setDefaultTimeout(PAGE_TIMEOUT_MS);
      const peer = new ChromiumPeer(page, entry);
      await page.exposeFunction('__peerEvent', (ev: PageEvent) => {
        peer.#onPageEvent(ev);
      });
      await page.route(PAGE_URL, (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/html',
          body: '<!doctype html><title>test peer</title>',
        }),
      );
      await page.goto(PAGE_URL);
      await page.evaluate(PAGE_SCRIPT);
      return peer;
    } catch (err) {
      await page?.close().catch(() => undefined);
      await release(entry);
      throw err;
    }
  }

  async createOffer(opts: OfferOptions): Promise<string> {
    const args = {
      audio: opts.audio === true,
      video: opts.video !== undefined && opts.video !== false,
      simulcast: typeof opts.video === 'object' && opts.video.simulcast,
      label: dataChannelLabel(opts.dataChannel) ?? null,
    };
    if (args.label !== null) {
      this.#dcState = 'connecting';
    }
    const sdp = await this.#page.evaluate(
      (o) => (globalThis as unknown as PageGlobal).__peer!.createOffer(o),
      args,
    );
    return trickleSdp(sdp);
  }

  /** getStats: inbound-rtp (received) and outbound-rtp (sent, per rid) entries. */
  stats(): Promise<RtpStats[]> {
    return this.#page.evaluate(() => (globalThis as unknown as PageGlobal).__peer!.stats());
  }

  /** Starts or stops one simulcast encoding (RTCRtpSender.setParameters `active`). */
  async setLayerActive(rid: string, active: boolean): Promise<void> {
    await this.#page.evaluate(
      (x) => (globalThis as unknown as PageGlobal).__peer!.setLayerActive(x.rid, x.active),
      {
        rid,
        active,
      },
    );
  }

  /** A PNG of the page (the rendered remote videos), for test artifacts. */
  async screenshot(path: string): Promise<void> {
    await this.#page.screenshot({ path });
  }

  async setRemoteDescription(d: { type: 'offer' | 'answer'; sdp: string }): Promise<void> {
    await this.#page.evaluate((x) => (globalThis as unknown as PageGlobal).__peer!.setRemote(x), {
      type: d.type,
      sdp: d.sdp,
    });
    await this.#held.release((c) => this.#apply(c));
  }

  async createAnswer(): Promise<string> {
    const sdp = await this.#page.evaluate(() => (globalThis as unknown as PageGlobal).__peer!.createAnswer());
    return trickleSdp(sdp);
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
      init['sdpMLineIndex'] = 0;
    }
    if (c.usernameFragment != null) {
      init['usernameFragment'] = c.usernameFragment;
    }
    await this.#page.evaluate((x) => (globalThis as unknown as PageGlobal).__peer!.addIce(x), init);
  }

  onCandidate(cb: (c: LocalCandidate) => void): void {
    this.#events.onCandidate(cb);
  }

  waitConnected(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'connected',
      timeoutMs,
      () => this.#state === 'connected',
      () => connectionFailure(this.#state),
    );
  }

  waitDataChannelOpen(timeoutMs: number): Promise<void> {
    return this.#events.waitUntil(
      'data channel open',
      timeoutMs,
      () => this.#dcState === 'open',
      () => (this.#dcState === 'closed' ? 'data channel closed' : connectionFailure(this.#state)),
    );
  }

  /** Queued in order to the page; a failure is thrown by the next call. */
  sendData(text: string): void {
    if (this.#sendError !== undefined) {
      throw this.#sendError;
    }
    if (this.#dcState !== 'open') {
      throw new Error(`chromium peer: data channel is ${this.#dcState ?? 'absent'}`);
    }
    this.#sendChain = this.#sendChain
      .then(async () => {
        await this.#page.evaluate((x) => {
          (globalThis as unknown as PageGlobal).__peer!.send(x);
        }, text);
      })
      .catch((err: unknown) => {
        this.#sendError ??= err instanceof Error ? err : new Error(String(err));
      });
  }

  onData(cb: (text: string) => void): void {
    this.#events.onData(cb);
  }

  connectionState(): string {
    return this.#state;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#sendChain;
      this.#state = 'closed';
      this.#events.shutdown();
      await this.#page
        .evaluate(() => (globalThis as unknown as PageGlobal).__peer?.close())
        .catch(() => undefined);
      await this.#page
        .context()
        .close()
        .catch(() => undefined);
      await release(this.#entry);
    })();
    return this.#closing;
  }

  #onPageEvent(ev: PageEvent): void {
    if (this.#state === 'closed') {
      return;
    }
    switch (ev.t) {
      case 'candidate': {
        const c = ev.c;
        const local: LocalCandidate = { candidate: c?.candidate ?? '' };
        if (c?.sdpMid != null) {
          local.sdpMid = c.sdpMid;
        }
        if (c?.sdpMLineIndex != null) {
          local.sdpMLineIndex = c.sdpMLineIndex;
        }
        this.#events.candidate(local);
        break;
      }
      case 'state':
        this.#state = ev.state;
        break;
      case 'dc':
        this.#dcState = ev.state;
        break;
      case 'data':
        this.#events.data(ev.text);
        break;
    }
    this.#events.changed();
  }
}
