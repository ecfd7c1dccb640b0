/**
 * Simulcast receive lines kept in SFU offers. werift's `createOffer` writes no `a=rid`/`a=simulcast` for a
 * transceiver receiving simulcast, so an SFU-initiated renegotiation (adding a subscriber's m-lines) would offer
 * the publisher's video m-line without them — and a browser applying that offer drops simulcast and sends only
 * its first encoding from then on (Chrome: `getParameters().encodings` shrinks to `[q]`). So every media section
 * of the offer that lacks them gets the `a=rid:… recv` and `a=simulcast:recv …` lines the same mid had in the
 * previous local description (our answer to the publisher's offer). Pure, on SDP text.
 */

const SIMULCAST_LINE = /^a=(rid:\S+ recv\b.*|simulcast:recv .*)$/;

function sections(sdp: string): string[] {
  return sdp.split(/\r\n(?=m=)/);
}

function midOf(section: string): string | undefined {
  return /^a=mid:(\S+)$/m.exec(section.replace(/\r/g, ''))?.[1];
}

/** `offer` with the simulcast receive lines of `previous` restored per mid (unchanged when none are missing). */
export function keepSimulcastInOffer(offer: string, previous: string | undefined): string {
  if (previous === undefined || previous === '') {
    return offer;
  }
  const linesByMid = new Map<string, string[]>();
  for (const s of sections(previous).slice(1)) {
    const mid = midOf(s);
    const lines = s.split('\r\n').filter((l) => SIMULCAST_LINE.test(l));
    if (mid !== undefined && lines.length > 0) {
      linesByMid.set(mid, lines);
    }
  }
  if (linesByMid.size === 0) {
    return offer;
  }
  const out = sections(offer).map((s, i) => {
    const mid = i === 0 ? undefined : midOf(s);
    const add = mid === undefined ? undefined : linesByMid.get(mid);
    if (add === undefined || /^a=simulcast:/m.test(s) || /^a=(inactive|sendonly)$/m.test(s)) {
      return s;
    }
    const trailing = s.endsWith('\r\n');
    const body = trailing ? s.slice(0, -2) : s;
    return `${body}\r\n${add.join('\r\n')}${trailing ? '\r\n' : ''}`;
  });
  return out.join('\r\n');
}
