/**
 * Reads one frame the focus sent on the data channel (protocol.md §5.1–§5.3) in either dialect. Never throws:
 * a frame that breaks the protocol comes back as `{ok: false, violation}`.
 */
import { isObject } from '../ids.js';
import { METADATA_KEY_STABLE, type StreamMetadata } from '../metadata.js';
import { DC_ERRCODES, DC_TYPES, type FailedTrack, type FocusFrame, type FocusMessage } from './types.js';

type Fields = Record<string, unknown>;
type Read = FocusMessage | string;

export function readFocusFrame(text: string): FocusFrame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, dialect: undefined, violation: `not JSON: ${text.slice(0, 80)}` };
  }
  if (!isObject(v)) {
    return { ok: false, dialect: undefined, violation: `not an object: ${text.slice(0, 80)}` };
  }
  if (typeof v['op'] === 'string') {
    return result('A', readA(v['op'], v));
  }
  if (typeof v['type'] === 'string' && isObject(v['content'])) {
    return result('B', readB(v['type'], v['content']));
  }
  return {
    ok: false,
    dialect: undefined,
    violation: `neither {op} nor {type, content}: ${text.slice(0, 80)}`,
  };
}

function result(dialect: 'A' | 'B', r: Read): FocusFrame {
  return typeof r === 'string' ? { ok: false, dialect, violation: r } : { ok: true, dialect, message: r };
}

const str = (v: unknown): v is string => typeof v === 'string';

/** `id`, if present, is a string of 1–64 characters (§5.2). */
function idOf(f: Fields): { id?: string } | string {
  const id = f['id'];
  if (id === undefined) {
    return {};
  }
  return str(id) && id.length >= 1 && id.length <= 64 ? { id } : `bad id ${JSON.stringify(id)}`;
}

function metadataOf(v: unknown): StreamMetadata | undefined {
  return isObject(v) ? (v as StreamMetadata) : undefined;
}

function failedOf(v: unknown): FailedTrack[] | undefined | string {
  if (v === undefined) {
    return undefined;
  }
  if (!Array.isArray(v) || !v.every((x) => isObject(x) && str(x['stream_id']) && str(x['track_id']))) {
    return `failed is not a list of {stream_id, track_id}: ${JSON.stringify(v)}`;
  }
  return (v as Fields[]).map((x) => ({
    stream_id: x['stream_id'] as string,
    track_id: x['track_id'] as string,
  }));
}

function errorOf(f: Fields, id: { id?: string }): Read {
  const { errcode, error } = f;
  if (!str(errcode) || !DC_ERRCODES.includes(errcode) || !str(error)) {
    return `error without a known errcode and an error text: ${JSON.stringify(f)}`;
  }
  const failed = failedOf(f['failed']);
  if (typeof failed === 'string') {
    return failed;
  }
  return { kind: 'error', ...id, errcode, error, ...(failed === undefined ? {} : { failed }) };
}

function speakerOf(f: Fields): Read {
  const { user_id, device_id, stream_id } = f;
  if (!str(user_id) || !str(device_id) || !str(stream_id)) {
    return `active_speaker without user_id, device_id, stream_id: ${JSON.stringify(f)}`;
  }
  return { kind: 'active_speaker', user_id, device_id, stream_id };
}

function readA(op: string, f: Fields): Read {
  const id = idOf(f);
  if (typeof id === 'string') {
    return id;
  }
  switch (op) {
    case 'offer':
    case 'answer': {
      if (!str(f['sdp'])) {
        return `${op} without sdp`;
      }
      const metadata = metadataOf(f['metadata']);
      if (op === 'offer' && metadata === undefined) {
        return 'offer without metadata (§6: every SFU offer carries a snapshot)';
      }
      return { kind: op, ...id, sdp: f['sdp'], ...(metadata === undefined ? {} : { metadata }) };
    }
    case 'metadata': {
      const metadata = metadataOf(f['metadata']);
      return metadata === undefined ? 'metadata without an object' : { kind: 'metadata', ...id, metadata };
    }
    case 'ack':
      return id.id === undefined ? 'ack without id' : { kind: 'ack', id: id.id };
    case 'error':
      return errorOf(f, id);
    case 'active_speaker':
      return speakerOf(f);
    default:
      return `op ${JSON.stringify(op)} is not one the focus sends`;
  }
}

function readB(type: string, c: Fields): Read {
  switch (type) {
    case DC_TYPES.negotiate: {
      const d = c['description'];
      if (!isObject(d) || (d['type'] !== 'offer' && d['type'] !== 'answer') || !str(d['sdp'])) {
        return `negotiate description is not {type: offer|answer, sdp}: ${JSON.stringify(d)}`;
      }
      const metadata = metadataOf(c[METADATA_KEY_STABLE]);
      if (d['type'] === 'offer' && metadata === undefined) {
        return `negotiate offer without ${METADATA_KEY_STABLE}`;
      }
      return { kind: d['type'], sdp: d['sdp'], ...(metadata === undefined ? {} : { metadata }) };
    }
    case DC_TYPES.metadataChanged: {
      const metadata = metadataOf(c[METADATA_KEY_STABLE]);
      return metadata === undefined
        ? `${type} without ${METADATA_KEY_STABLE}`
        : { kind: 'metadata', metadata };
    }
    case DC_TYPES.ping:
      return { kind: 'ping' };
    case DC_TYPES.error:
      return 'id' in c ? 'dialect B error carries an id' : errorOf(c, {});
    case DC_TYPES.activeSpeaker:
      return speakerOf(c);
    default:
      return `type ${JSON.stringify(type)} is not one the focus sends`;
  }
}
