/**
 * The web call page (`/call/`): join a room's call through the focus that serves this page (or the one the
 * homeserver's `.well-known` names), then a grid of tiles with names, the active speaker highlighted, a stats
 * line per tile, tile sizes driving the requested layer, and the controls: microphone, camera, screen share,
 * stats, leave; with `key=` in the fragment, media is end-to-end encrypted (e2ee.ts). Settings come from the URL fragment (params.ts) or the form; failures are shown with the
 * client's hint. `window.callPage.state()` describes the page for tests and for people debugging it.
 */
import { CallError, joinCall, type Call, type Participant, type RemoteTrack } from '../../client/index.js';
import { PageE2ee } from './e2ee.js';
import { displayName, missing, parseFragment, type PageDefaults, type PageParams } from './params.js';
import { statsLine, trackStats, type TrackSample } from './stats.js';
import { AudioSinks, Tile } from './tiles.js';

const $ = (id: string): HTMLElement => {
  const el = document.getElementById(id);
  if (el === null) {
    throw new Error(`the page has no #${id}`);
  }
  return el;
};
const input = (id: string): HTMLInputElement => $(id) as HTMLInputElement;

let call: Call | undefined;
let defaults: PageDefaults = {};
let lastError = '';
let localTile: Tile | undefined;
let screenTile: Tile | undefined;
let speakerStream: string | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;
const tiles = new Map<string, Tile>();
const samples = new Map<string, TrackSample>();
let audio: AudioSinks;
let e2ee: PageE2ee | undefined;

function showError(err: unknown): void {
  const box = $('error');
  if (err instanceof CallError) {
    lastError = `${err.name}: ${err.message}`;
    box.replaceChildren(
      Object.assign(document.createElement('strong'), { textContent: err.message }),
      Object.assign(document.createElement('div'), { textContent: err.hint, className: 'hint' }),
    );
  } else {
    lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    box.replaceChildren(Object.assign(document.createElement('strong'), { textContent: lastError }));
  }
  box.hidden = false;
}

function clearError(): void {
  lastError = '';
  $('error').hidden = true;
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

async function loadDefaults(): Promise<PageDefaults> {
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    return res.ok ? ((await res.json()) as PageDefaults) : {};
  } catch {
    return {};
  }
}

function fillForm(p: PageParams): void {
  input('f-hs').value = p.hs;
  input('f-user').value = p.user;
  input('f-password').value = p.password;
  input('f-room').value = p.room;
}

function formParams(base: PageParams): PageParams {
  const v = (id: string): string => input(id).value.trim();
  return { ...base, hs: v('f-hs'), user: v('f-user'), password: v('f-password'), room: v('f-room') };
}

async function join(p: PageParams): Promise<void> {
  clearError();
  $('join').hidden = true;
  setStatus(`Joining ${p.room} as ${p.user}…`);
  try {
    if (p.key !== '' && e2ee === undefined) {
      e2ee = await PageE2ee.start(p.key);
    }
    const crypt = e2ee;
    call = await joinCall({
      ...(crypt === undefined
        ? {}
        : {
            transforms: {
              sender: (sender, kind) => {
                crypt.sender(sender, kind);
              },
              receiver: (receiver, kind) => {
                crypt.receiver(receiver, kind);
              },
            },
          }),
      hsUrl: p.hs,
      login:
        p.token !== ''
          ? { accessToken: p.token, userId: p.user, deviceId: p.device }
          : { user: p.user, password: p.password },
      roomIdOrAlias: p.room,
      ...(defaults.focus === undefined ? {} : { focus: defaults.focus }),
      membershipFormat: p.format,
    });
  } catch (err) {
    setStatus('Not in a call.');
    showError(err);
    $('join').hidden = false;
    return;
  }
  const c = call;
  document.body.classList.add('in-call');
  setStatus(
    `In ${c.roomId} as ${c.userId} (focus ${c.focus.user_id})${e2ee === undefined ? '' : ', end-to-end encrypted'}`,
  );
  const local = (c.peer as { localStream?: MediaStream }).localStream;
  localTile = new Tile('local', `${displayName(c.userId)} (you)`, true, undefined);
  if (local !== undefined) {
    const v = local.getVideoTracks()[0];
    if (v !== undefined) {
      localTile.showVideo(v);
    }
  }
  $('grid').append(localTile.el);
  render(c.participants);
  c.on('participants', render);
  for (const t of c.tracks) {
    attach(t);
  }
  c.on('track', attach);
  c.on('activeSpeaker', (s) => {
    speakerStream = s.streamId;
    for (const tile of tiles.values()) {
      tile.setSpeaking(tile.streamId === speakerStream);
    }
    localTile?.setSpeaking(s.userId === c.userId && s.deviceId === c.deviceId);
  });
  c.on('error', (e) => {
    showError(e);
  });
  c.on('ended', (e) => {
    if (e.reason !== 'left' && e.error !== undefined) {
      showError(e.error);
    }
    teardown(e.reason === 'left' ? 'You left the call.' : `The call ended (${e.reason}).`);
  });
  statsTimer = setInterval(() => {
    void updateStats();
  }, 1000);
  updateControls();
}

function render(people: readonly Participant[]): void {
  const c = call;
  if (c === undefined) {
    return;
  }
  const seen = new Set<string>();
  for (const p of people) {
    for (const s of p.streams) {
      seen.add(s.streamId);
      let tile = tiles.get(s.streamId);
      if (tile === undefined) {
        tile = new Tile(s.streamId, '', false, {
          resized: (streamId, width, height) => {
            call?.subscribe(streamId, { width, height });
          },
        });
        tiles.set(s.streamId, tile);
        $('grid').append(tile.el);
      }
      tile.setName(
        s.purpose === 'm.screenshare' ? `${displayName(p.userId)}’s screen` : displayName(p.userId),
      );
      tile.el.title = `${p.userId} (${p.deviceId})`;
      tile.setFlags(s.audioMuted, s.videoMuted, s.purpose);
      tile.setSpeaking(s.streamId === speakerStream);
    }
  }
  for (const [id, tile] of tiles) {
    if (!seen.has(id)) {
      tile.remove();
      tiles.delete(id);
      audio.removeStream(id);
    }
  }
}

function attach(t: RemoteTrack): void {
  const track = t.track as MediaStreamTrack;
  if (t.kind === 'audio') {
    audio.add(`${t.streamId}\u0000${t.trackId}`, track);
    return;
  }
  tiles.get(t.streamId)?.showVideo(track);
}

async function updateStats(): Promise<void> {
  const c = call;
  if (c === undefined || !document.body.classList.contains('show-stats')) {
    return;
  }
  const entries = await (c.peer as { stats?: () => Promise<Record<string, unknown>[]> }).stats?.();
  if (entries === undefined) {
    return;
  }
  const now = performance.now();
  for (const tile of tiles.values()) {
    const id = tile.videoTrackId;
    tile.setStats(
      id === undefined ? 'no video yet' : statsLine(trackStats(entries, id, samples, now), 'video'),
    );
  }
}

function updateControls(): void {
  const c = call;
  const m = c?.muted ?? { audio: false, video: false };
  $('mic').textContent = m.audio ? 'Unmute' : 'Mute';
  $('cam').textContent = m.video ? 'Camera on' : 'Camera off';
  $('share').textContent = c?.screenShare === undefined ? 'Share screen' : 'Stop sharing';
  localTile?.setFlags(m.audio, m.video, 'm.usermedia');
}

async function toggleShare(): Promise<void> {
  const c = call;
  if (c === undefined) {
    return;
  }
  if (c.screenShare !== undefined) {
    await c.stopScreenShare();
    screenTile?.remove();
    screenTile = undefined;
    updateControls();
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (err) {
    showError(
      new Error(`screen sharing was not allowed: ${err instanceof Error ? err.message : String(err)}`),
    );
    return;
  }
  const track = stream.getVideoTracks()[0];
  const settings = track?.getSettings();
  try {
    await c.shareScreen(
      stream,
      settings?.width !== undefined && settings.height !== undefined
        ? { width: settings.width, height: settings.height }
        : undefined,
    );
  } catch (err) {
    for (const t of stream.getTracks()) {
      t.stop();
    }
    showError(err);
    return;
  }
  screenTile = new Tile('local-screen', 'your screen', true, undefined);
  if (track !== undefined) {
    screenTile.showVideo(track);
    track.addEventListener('ended', () => {
      if (call?.screenShare !== undefined) {
        void toggleShare();
      }
    });
  }
  $('grid').append(screenTile.el);
  updateControls();
}

function teardown(message: string): void {
  clearInterval(statsTimer);
  for (const tile of tiles.values()) {
    tile.remove();
  }
  tiles.clear();
  localTile?.remove();
  screenTile?.remove();
  localTile = undefined;
  screenTile = undefined;
  call = undefined;
  document.body.classList.remove('in-call');
  setStatus(message);
  $('join').hidden = false;
}

function state(): Record<string, unknown> {
  return {
    joined: call !== undefined,
    userId: call?.userId,
    roomId: call?.roomId,
    error: lastError,
    status: $('status').textContent,
    muted: call?.muted,
    screenShare: call?.screenShare,
    tiles: [...tiles.values()].map((t) => ({
      stream: t.streamId,
      name: t.label,
      flags: t.flags,
      size: t.size,
      speaking: t.el.classList.contains('speaking'),
      videoWidth: t.video.videoWidth,
      videoHeight: t.video.videoHeight,
      frames: t.video.getVideoPlaybackQuality().totalVideoFrames,
      stats: t.el.querySelector('.stats')?.textContent ?? '',
    })),
  };
}

async function main(): Promise<void> {
  audio = new AudioSinks($('audio'));
  (window as unknown as { callPage: unknown }).callPage = {
    state,
    e2ee: () => e2ee?.counts(),
    get call() {
      return call;
    },
  };
  $('mic').addEventListener('click', () => {
    if (call !== undefined) {
      call.setMuted('audio', !call.muted.audio);
      updateControls();
    }
  });
  $('cam').addEventListener('click', () => {
    if (call !== undefined) {
      call.setMuted('video', !call.muted.video);
      updateControls();
    }
  });
  $('share').addEventListener('click', () => {
    void toggleShare();
  });
  $('stats').addEventListener('click', () => {
    document.body.classList.toggle('show-stats');
  });
  $('leave').addEventListener('click', () => {
    void call?.leave().catch(showError);
  });
  window.addEventListener('pagehide', () => {
    void call?.leave({ unloading: true });
  });
  defaults = await loadDefaults();
  const params = parseFragment(location.hash, defaults);
  fillForm(params);
  $('join').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const p = formParams(params);
    const lack = missing(p);
    if (lack.length > 0) {
      showError(new Error(`Fill in: ${lack.join(', ')}.`));
      return;
    }
    void join(p);
  });
  if (missing(params).length === 0) {
    await join(params);
  } else {
    setStatus('Fill in the form to join a call.');
    $('join').hidden = false;
  }
}

void main().catch(showError);
