/**
 * The SSRCs a remote description signals per m-line (`a=ssrc:<id> …`, RFC 5576), for routing packets that
 * carry no MID/RID header extension. Repair streams (the second and later members of an
 * `a=ssrc-group:FID` or `FEC-FR` group) are left out: they are not the media of the m-line. Pure.
 */
import { mediaSections } from './sdp.js';

const SSRC = /^a=ssrc:(\d+)(?:\s|$)/;
const REPAIR_GROUP = /^a=ssrc-group:(?:FID|FEC-FR)\s+(.*)$/;

/** By mid: the m-line's media SSRCs, in order of first appearance (m-lines without a mid are skipped). */
export function signalledSsrcs(sdp: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of mediaSections(sdp)) {
    if (m.mid === undefined) {
      continue;
    }
    const repair = new Set<number>();
    const all: number[] = [];
    for (const l of m.lines) {
      const g = REPAIR_GROUP.exec(l);
      if (g !== null) {
        for (const id of (g[1] ?? '').trim().split(/\s+/).slice(1)) {
          repair.add(Number(id));
        }
        continue;
      }
      const s = SSRC.exec(l);
      const id = s === null ? NaN : Number(s[1]);
      if (Number.isInteger(id) && id >= 0 && id <= 0xffffffff && !all.includes(id)) {
        all.push(id);
      }
    }
    out.set(
      m.mid,
      all.filter((id) => !repair.has(id)),
    );
  }
  return out;
}
