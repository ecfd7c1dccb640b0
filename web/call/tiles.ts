/**
 * The participant grid: one tile per stream (camera or screen share) with the person's name, its video, a stats
 * overlay line and a size button (normal → large → thumbnail); audio plays from hidden elements. A tile's
 * rendered size (device pixels, via ResizeObserver) is what the page subscribes at, so a thumbnail gets the low
 * layer and a large tile the high one. The local camera has a tile of its own (mirrored, never subscribed).
 */

export type TileSize = 'normal' | 'large' | 'small';

export interface TileCallbacks {
  /** The tile's video area changed size (device pixels), or it was created. */
  resized(streamId: string, width: number, height: number): void;
}

const NEXT_SIZE: Record<TileSize, TileSize> = { normal: 'large', large: 'small', small: 'normal' };

export class Tile {
  readonly streamId: string;
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #name: HTMLElement;
  readonly #label: Text;
  readonly #stats: HTMLElement;
  readonly #flags: HTMLElement;
  readonly #observer: ResizeObserver | undefined;
  /** The MediaStreamTrack id of the video shown (for its stats). */
  videoTrackId: string | undefined;
  size: TileSize = 'normal';

  constructor(streamId: string, name: string, local: boolean, cb: TileCallbacks | undefined) {
    this.streamId = streamId;
    this.el = document.createElement('div');
    this.el.className = local ? 'tile local' : 'tile';
    this.el.dataset['stream'] = streamId;
    this.el.dataset['size'] = this.size;
    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = true; // audio plays from its own element
    this.#name = document.createElement('div');
    this.#name.className = 'name';
    this.#label = document.createTextNode(name);
    this.#name.append(this.#label);
    this.#flags = document.createElement('span');
    this.#flags.className = 'flags';
    this.#name.append(' ', this.#flags);
    this.#stats = document.createElement('div');
    this.#stats.className = 'stats';
    this.el.append(this.video, this.#name, this.#stats);
    if (!local) {
      const sizeButton = document.createElement('button');
      sizeButton.className = 'size';
      sizeButton.type = 'button';
      sizeButton.title = 'Tile size: normal → large → thumbnail';
      sizeButton.textContent = '⤢';
      sizeButton.addEventListener('click', () => {
        this.setSize(NEXT_SIZE[this.size]);
      });
      this.el.append(sizeButton);
    }
    if (cb !== undefined && typeof ResizeObserver === 'function') {
      this.#observer = new ResizeObserver(() => {
        this.#report(cb);
      });
      this.#observer.observe(this.el);
    }
  }

  /** The name shown (without the flags). */
  get label(): string {
    return this.#label.textContent;
  }

  /** The flags shown (`(screen, muted)`), '' when none. */
  get flags(): string {
    return this.#flags.textContent;
  }

  setSize(size: TileSize): void {
    this.size = size;
    this.el.dataset['size'] = size;
  }

  showVideo(track: MediaStreamTrack): void {
    this.videoTrackId = track.id;
    this.video.srcObject = new MediaStream([track]);
    this.video.play().catch(() => undefined);
  }

  setName(name: string): void {
    this.#label.textContent = name;
  }

  setFlags(audioMuted: boolean, videoMuted: boolean, purpose: string): void {
    const f: string[] = [];
    if (purpose === 'm.screenshare') {
      f.push('screen');
    }
    if (audioMuted) {
      f.push('muted');
    }
    if (videoMuted) {
      f.push('camera off');
    }
    this.#flags.textContent = f.length === 0 ? '' : `(${f.join(', ')})`;
    this.el.classList.toggle('video-off', videoMuted);
  }

  setSpeaking(on: boolean): void {
    this.el.classList.toggle('speaking', on);
  }

  setStats(text: string): void {
    this.#stats.textContent = text;
  }

  remove(): void {
    this.#observer?.disconnect();
    this.video.srcObject = null;
    this.el.remove();
  }

  #report(cb: TileCallbacks): void {
    const r = this.el.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(r.width * dpr));
    const h = Math.max(1, Math.round(r.height * dpr));
    cb.resized(this.streamId, w, h);
  }
}

/** Hidden audio elements, one per remote audio track. */
export class AudioSinks {
  readonly #root: HTMLElement;
  readonly #els = new Map<string, HTMLAudioElement>();

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  add(key: string, track: MediaStreamTrack): void {
    this.remove(key);
    const a = document.createElement('audio');
    a.autoplay = true;
    a.dataset['track'] = key;
    a.srcObject = new MediaStream([track]);
    this.#root.append(a);
    a.play().catch(() => undefined);
    this.#els.set(key, a);
  }

  remove(key: string): void {
    const a = this.#els.get(key);
    if (a !== undefined) {
      a.srcObject = null;
      a.remove();
      this.#els.delete(key);
    }
  }

  removeStream(streamId: string): void {
    for (const key of [...this.#els.keys()]) {
      if (key.startsWith(`${streamId}\u0000`)) {
        this.remove(key);
      }
    }
  }
}
