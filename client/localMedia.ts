/**
 * Camera and microphone through the browser's `navigator.mediaDevices.getUserMedia`, with its failures turned
 * into a `MediaAccessError` saying what happened and what to do.
 */
import { MediaAccessError } from './errors.js';
import { describeError } from './ids.js';
import type { MediaDevicesLike, MediaStreamLike } from './webrtcTypes.js';

export interface LocalMediaOptions {
  audio?: boolean;
  /** `true` asks for 1280×720 (the top simulcast layer); an object is passed as the video constraints. */
  video?: boolean | Record<string, unknown>;
}

export const DEFAULT_VIDEO = { width: { ideal: 1280 }, height: { ideal: 720 } };

function mediaDevices(): MediaDevicesLike | undefined {
  const nav = (globalThis as { navigator?: { mediaDevices?: MediaDevicesLike } }).navigator;
  return nav?.mediaDevices;
}

/** Opens camera and/or microphone; rejects with MediaAccessError. */
export async function getLocalMedia(
  want: LocalMediaOptions = {},
  devices: MediaDevicesLike | undefined = mediaDevices(),
): Promise<MediaStreamLike> {
  const audio = want.audio ?? true;
  const video = want.video ?? true;
  const what = [audio ? 'microphone' : '', video !== false ? 'camera' : '']
    .filter((s) => s !== '')
    .join(' and ');
  if (devices === undefined) {
    throw new MediaAccessError(
      `this page cannot use the ${what}: the browser offers no media devices here`,
      'NoMediaDevices',
      'Open the page over https (or on localhost): browsers only give camera and microphone to secure pages.',
    );
  }
  try {
    return await devices.getUserMedia({ audio, video: video === true ? DEFAULT_VIDEO : video });
  } catch (err) {
    throw mediaFailure(what, err);
  }
}

export function mediaFailure(what: string, err: unknown): MediaAccessError {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : 'Error';
  switch (name) {
    case 'NotFoundError':
    case 'DevicesNotFoundError':
      return new MediaAccessError(
        `no ${what} found`,
        name,
        'Connect a camera and microphone, or join without video (publish: {video: false}).',
        err,
      );
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return new MediaAccessError(
        `the browser was not allowed to use the ${what}`,
        name,
        "Allow camera and microphone for this site in the browser's site settings, then join again.",
        err,
      );
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return new MediaAccessError(
        `the ${what} could not be started: ${describeError(err)}`,
        name,
        'Another application may be using it: close it, or pick another device.',
        err,
      );
    case 'OverconstrainedError':
      return new MediaAccessError(
        `no ${what} supports the requested settings`,
        name,
        'Ask for a smaller video size, or pick another device.',
        err,
      );
    default:
      return new MediaAccessError(
        `opening the ${what} failed: ${describeError(err)}`,
        name,
        'Check the devices and the browser permissions, then join again.',
        err,
      );
  }
}
