/**
 * Link frames → {@link LinkMessage} (protocol.md §8.1–§8.5). Pure: never throws on any input.
 *
 * A separate entry point rather than a `from` value of {@link parseDcFrame}: only a focus on an authorized link
 * may announce trunk SSRCs (§8.2) or layer demand (§8.3), so the session parser never reads them and the link
 * fields cannot reach a client session by mistake. The checks of §5.1 come first, exactly as for sessions
 * (binary → `M_NOT_JSON`, over `maxBytes` → `M_LIMIT_EXCEEDED`, bad JSON, not an object); then a frame that is
 * not dialect A is `M_BAD_JSON` (links always speak A, §8.1), the `id` is checked as in §5.2, and an op that is
 * not in {@link LINK_OPS} is `M_BAD_JSON`. Bodies follow §5.2 with the link rules of linkMetadata.ts for
 * metadata, rids in `subscribe` entries' `layers` (1–4, unique, else `M_INVALID_PARAM`/`M_LIMIT_EXCEEDED`), and
 * the `layers` op: a non-empty `tracks` list (at most `maxListEntries`) of `{stream_id, track_id, sending}`
 * with no track twice, `sending` 0–4 unique rids. Errcode priority as in parse.ts.
 */
import { Checker, get, isObject, quote, type JsonObject } from './check.js';
import {
  type LayersSending,
  LINK_OPS,
  type LinkMessage,
  type LinkOp,
  type LinkParseResult,
} from './linkTypes.js';
import { bodyA, decodeFrame, fail, readIdA, runBody } from './parse.js';
import type { DcParseLimits } from './types.js';

function layersEntry(c: Checker, v: unknown, path: string): LayersSending {
  const o = c.object(v, path);
  return {
    streamId: c.string(get(o, 'stream_id'), `${path}.stream_id`),
    trackId: c.string(get(o, 'track_id'), `${path}.track_id`),
    sending: c.rids(get(o, 'sending'), `${path}.sending`, true),
  };
}

function layersOp(c: Checker, o: JsonObject, id: string | undefined): LinkMessage {
  const list = c.array(get(o, 'tracks'), 'tracks');
  if (list.length === 0) {
    return c.bad('tracks must not be empty');
  }
  if (list.length > c.maxListEntries) {
    c.limit(`tracks has ${list.length} entries, more than ${c.maxListEntries}`);
  }
  const tracks = list.map((e, i) => layersEntry(c, e, `tracks[${i}]`));
  const seen = new Set<string>();
  for (const t of tracks) {
    const k = JSON.stringify([t.streamId, t.trackId]);
    if (seen.has(k)) {
      c.invalid(`tracks names ${quote(t.streamId)}/${quote(t.trackId)} twice`);
    }
    seen.add(k);
  }
  return { kind: 'layers', ...(id !== undefined ? { id } : {}), tracks };
}

function body(c: Checker, op: LinkOp, o: JsonObject, id: string | undefined): LinkMessage {
  // Every op but `layers` has its §5.2 shape; the link checker adds the link fields.
  return op === 'layers' ? layersOp(c, o, id) : (bodyA(c, op, o, id) as LinkMessage);
}

/** Parses one frame a linked focus sent on the link's data channel. */
export function parseLinkFrame(frame: string | Uint8Array, limits: DcParseLimits): LinkParseResult {
  const decoded = decodeFrame(frame, limits);
  if (!decoded.ok) {
    return decoded;
  }
  const v = decoded.value;
  const op = get(v, 'op');
  if (typeof op !== 'string') {
    const b = typeof get(v, 'type') === 'string' && isObject(get(v, 'content'));
    return b
      ? fail('M_BAD_JSON', 'links speak dialect A only (§8.1)', 'B')
      : fail('M_BAD_JSON', 'a link message needs a string "op" (dialect A, §8.1)');
  }
  const read = readIdA(v);
  if (!read.ok) {
    return read;
  }
  if (!(LINK_OPS as readonly string[]).includes(op)) {
    return fail('M_BAD_JSON', `op ${quote(op)} is not a link message (§8)`, 'A', read.id);
  }
  const c = new Checker(limits.maxListEntries, 'link');
  const r = runBody('A', read.id, c, (ch) => body(ch, op as LinkOp, v, read.id));
  return r.ok ? { ok: true, dialect: 'A', message: r.message } : r;
}
