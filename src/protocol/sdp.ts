/**
 * Small, pure SDP text helpers the signalling path needs: BUNDLE detection, candidate extraction per
 * m-line, candidate address rewriting for announced IPs, and line-ending normalisation. Not a full parser.
 */
export interface IceCandidateInit {
  candidate: string;
  sdpMid?: string;
  sdpMLineIndex?: number;
}

function lines(sdp: string): string[] {
  return sdp.split(/\r?\n/).filter((l) => l.length > 0);
}

/** True when the session has an `a=group:BUNDLE` line naming at least one mid. */
export function hasBundleGroup(sdp: string): boolean {
  return lines(sdp).some((l) => /^a=group:BUNDLE(\s+\S+)+\s*$/.test(l));
}

/** The m-line sections: index, mid (if any) and their lines. */
export function mediaSections(sdp: string): { index: number; mid: string | undefined; lines: string[] }[] {
  const out: { index: number; mid: string | undefined; lines: string[] }[] = [];
  for (const l of lines(sdp)) {
    if (l.startsWith('m=')) {
      out.push({ index: out.length, mid: undefined, lines: [l] });
      continue;
    }
    const cur = out.at(-1);
    if (cur === undefined) {
      continue;
    }
    cur.lines.push(l);
    if (l.startsWith('a=mid:')) {
      cur.mid = l.slice('a=mid:'.length).trim();
    }
  }
  return out;
}

/** Every `a=candidate` of the SDP as trickle candidates (`candidate:...` without the `a=`). */
export function extractCandidates(sdp: string): IceCandidateInit[] {
  const out: IceCandidateInit[] = [];
  for (const m of mediaSections(sdp)) {
    for (const l of m.lines) {
      if (l.startsWith('a=candidate:')) {
        out.push({
          candidate: l.slice(2),
          ...(m.mid !== undefined ? { sdpMid: m.mid } : {}),
          sdpMLineIndex: m.index,
        });
      }
    }
  }
  return out;
}

/** Removes `a=candidate` and `a=end-of-candidates` lines (for sending candidates separately). */
export function stripCandidates(sdp: string): string {
  return lines(sdp)
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .map((l) => `${l}\r\n`)
    .join('');
}

const CANDIDATE = /^(candidate:)(\S+) (\d+) (\S+) (\d+) (\S+) (\d+) typ (\S+)(.*)$/;

/**
 * Announced IPs (NAT 1:1): each host candidate is replaced by one candidate per announced IP with the same
 * port, a derived foundation and a slightly lower priority per extra IP. Non-host candidates are kept.
 */
export function announceCandidate(candidate: string, announcedIps: readonly string[]): string[] {
  const m = CANDIDATE.exec(candidate);
  if (m === null || announcedIps.length === 0 || m[8] !== 'host') {
    return [candidate];
  }
  const [, prefix, foundation, component, transport, priority, , port, , rest] = m as unknown as string[];
  return announcedIps.map(
    (ip, i) =>
      `${prefix}${foundation}${i === 0 ? '' : `a${i}`} ${component} ${transport} ${Number(priority) - i} ${ip} ${port} typ host${rest}`,
  );
}

/** Applies announceCandidate to every `a=candidate` line of an SDP. */
export function announceSdp(sdp: string, announcedIps: readonly string[]): string {
  if (announcedIps.length === 0) {
    return sdp;
  }
  const out: string[] = [];
  for (const l of lines(sdp)) {
    if (l.startsWith('a=candidate:')) {
      for (const c of announceCandidate(l.slice(2), announcedIps)) {
        out.push(`a=${c}`);
      }
    } else {
      out.push(l);
    }
  }
  return out.map((l) => `${l}\r\n`).join('');
}

export interface RemoteMediaTrack {
  mid: string | undefined;
  kind: 'audio' | 'video';
  streamId: string;
  trackId: string;
  /** From the m-line's direction: does the remote send on it? */
  sending: boolean;
  /** `a=rid:<id> send` lines (simulcast layers), in order. */
  rids: string[];
  /** `max-width`/`max-height` restrictions of those rids, where both are given. */
  ridSizes: Record<string, { width: number; height: number }>;
}

/** `max-width=1280;max-height=720` (other restrictions ignored) → the size, if both are valid. */
function ridSize(params: string | undefined): { width: number; height: number } | undefined {
  if (params === undefined) {
    return undefined;
  }
  const kv = new Map(params.split(';').map((p) => p.split('=', 2) as [string, string | undefined]));
  const width = Number(kv.get('max-width'));
  const height = Number(kv.get('max-height'));
  return Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0
    ? { width, height }
    : undefined;
}

/** The audio/video m-lines of a remote description with their `a=msid` and direction. */
export function remoteMediaTracks(sdp: string): RemoteMediaTrack[] {
  const out: RemoteMediaTrack[] = [];
  for (const m of mediaSections(sdp)) {
    const kindMatch = /^m=(audio|video) (\d+)/.exec(m.lines[0] ?? '');
    if (kindMatch === null) {
      continue;
    }
    let direction = 'sendrecv';
    let msid: string[] | undefined;
    const rids: string[] = [];
    const ridSizes: Record<string, { width: number; height: number }> = {};
    for (const l of m.lines) {
      if (/^a=(sendrecv|sendonly|recvonly|inactive)$/.test(l)) {
        direction = l.slice(2);
      } else if (l.startsWith('a=msid:')) {
        msid = l.slice('a=msid:'.length).trim().split(/\s+/);
      } else if (l.startsWith('a=rid:')) {
        const [id, dir, params] = l.slice('a=rid:'.length).split(/\s+/);
        if (id !== undefined && dir === 'send') {
          rids.push(id);
          const size = ridSize(params);
          if (size !== undefined) {
            ridSizes[id] = size;
          }
        }
      }
    }
    const [streamId, trackId] = msid ?? [];
    if (streamId === undefined || trackId === undefined || streamId === '-') {
      continue;
    }
    out.push({
      mid: m.mid,
      kind: kindMatch[1] as 'audio' | 'video',
      streamId,
      trackId,
      sending: (direction === 'sendrecv' || direction === 'sendonly') && kindMatch[2] !== '0',
      rids,
      ridSizes,
    });
  }
  return out;
}

/**
 * Minimal sanity of a client offer before it reaches werift (which accepts nearly anything): a session
 * header, at least one m-line, ICE credentials and a DTLS fingerprint, and — for a renegotiation — no fewer
 * m-lines than the current remote description (JSEP never removes m-lines). Returns a reason or undefined.
 */
export function offerProblem(sdp: string, currentMLines: number): string | undefined {
  if (!sdp.startsWith('v=0')) {
    return 'not an SDP (must start with v=0)';
  }
  const sections = mediaSections(sdp);
  if (sections.length === 0) {
    return 'the offer has no m-lines';
  }
  if (sections.length < currentMLines) {
    return `the offer has ${sections.length} m-lines, fewer than the ${currentMLines} already negotiated`;
  }
  const all = lines(sdp);
  if (!all.some((l) => l.startsWith('a=ice-ufrag:')) || !all.some((l) => l.startsWith('a=ice-pwd:'))) {
    return 'the offer has no ICE credentials';
  }
  if (!all.some((l) => l.startsWith('a=fingerprint:'))) {
    return 'the offer has no DTLS fingerprint';
  }
  return undefined;
}
