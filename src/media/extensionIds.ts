/**
 * RTP header extension ids across one BUNDLEd connection (RFC 8843 §9.2: an id means the same extension in every
 * bundled m-line; Chrome rejects an offer that breaks this: "A BUNDLE group contains a codec collision for header
 * extension id=…"). werift numbers the extensions of a transceiver it adds from its own config (1..n over audio and
 * video), which may collide with the ids a browser chose in its offer. So before an SFU offer, each transceiver
 * that has no negotiated extensions yet and whose werift ids would collide takes the id already used on the
 * connection for the same URI, else a free one (1–14, one-byte headers); an extension with no id left is not
 * offered. Without a collision (e.g. a werift client, which numbers like the SFU) werift's own ids stay.
 */
import { RTCRtpHeaderExtensionParameters } from 'werift';

interface Transceiverish {
  kind: string;
  headerExtensions: RTCRtpHeaderExtensionParameters[];
}

export const MAX_ONE_BYTE_ID = 14;

/** Gives new transceivers (no extensions yet) the connection's ids for `config[kind]`'s extension URIs. */
export function alignExtensionIds(
  transceivers: readonly Transceiverish[],
  config: Partial<Record<string, readonly RTCRtpHeaderExtensionParameters[]>>,
): void {
  const idOf = new Map<string, number>();
  const uriOf = new Map<number, string>();
  const used = new Set<number>();
  for (const tr of transceivers) {
    for (const ext of tr.headerExtensions) {
      if (!idOf.has(ext.uri)) {
        idOf.set(ext.uri, ext.id);
      }
      uriOf.set(ext.id, ext.uri);
      used.add(ext.id);
    }
  }
  if (idOf.size === 0) {
    return; // nothing negotiated yet: werift's own numbering is consistent
  }
  for (const tr of transceivers) {
    if (tr.headerExtensions.length > 0) {
      continue;
    }
    const defaults = config[tr.kind] ?? [];
    if (defaults.every((e) => (uriOf.get(e.id) ?? e.uri) === e.uri)) {
      continue; // werift's own ids fit the connection
    }
    const exts: RTCRtpHeaderExtensionParameters[] = [];
    for (const ext of defaults) {
      let id = idOf.get(ext.uri);
      if (id === undefined) {
        for (let candidate = 1; candidate <= MAX_ONE_BYTE_ID; candidate++) {
          if (!used.has(candidate)) {
            id = candidate;
            break;
          }
        }
        if (id === undefined) {
          continue;
        }
        idOf.set(ext.uri, id);
        uriOf.set(id, ext.uri);
        used.add(id);
      }
      exts.push(new RTCRtpHeaderExtensionParameters({ id, uri: ext.uri }));
    }
    tr.headerExtensions = exts;
  }
}
