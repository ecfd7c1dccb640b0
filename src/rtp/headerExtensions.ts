/**
 * RTP header extensions on the forward path (werift-notes pitfall 2): a forwarded packet carries exactly the
 * extensions negotiated on the SUBSCRIBER's connection, under that connection's ids: its own MID, a fresh
 * abs-send-time, the subscriber transport's own transport-wide sequence number, and the publisher's audio
 * level copied under the subscriber's id. The publisher's MID, RID, repaired RID and transport-cc values never
 * leak. Pure: the plan is computed once per negotiation, the per-packet part only fills values in.
 */

export const EXT_URI = {
  mid: 'urn:ietf:params:rtp-hdrext:sdes:mid',
  rid: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  repairedRid: 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
  absSendTime: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  transportCc: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  audioLevel: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
} as const;

export interface NegotiatedExtension {
  uri: string;
  id: number;
}

export interface RtpExtension {
  id: number;
  payload: Uint8Array;
}

/** The subscriber-side extension ids (undefined = not negotiated there, so not sent). */
export interface ExtensionPlan {
  mid?: { id: number; value: Uint8Array };
  absSendTimeId?: number;
  transportCcId?: number;
  audioLevelId?: number;
}

function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 1 && id <= 14;
}

/** Builds the plan from the subscriber transceiver's negotiated extensions and its MID. */
export function planExtensions(
  negotiated: readonly NegotiatedExtension[],
  mid: string | undefined,
): ExtensionPlan {
  const idOf = (uri: string): number | undefined => {
    const e = negotiated.find((x) => x.uri === uri && validId(x.id));
    return e?.id;
  };
  const plan: ExtensionPlan = {};
  const midId = idOf(EXT_URI.mid);
  if (midId !== undefined && mid !== undefined && mid.length > 0 && mid.length <= 16) {
    plan.mid = { id: midId, value: new TextEncoder().encode(mid) };
  }
  const abs = idOf(EXT_URI.absSendTime);
  if (abs !== undefined) {
    plan.absSendTimeId = abs;
  }
  const tcc = idOf(EXT_URI.transportCc);
  if (tcc !== undefined) {
    plan.transportCcId = tcc;
  }
  const level = idOf(EXT_URI.audioLevel);
  if (level !== undefined) {
    plan.audioLevelId = level;
  }
  return plan;
}

/** abs-send-time: 24-bit 6.18 fixed-point seconds (wraps every 64 s), big-endian. */
export function absSendTime(nowMs: number): Uint8Array {
  const v = Math.floor((nowMs * (1 << 18)) / 1000) & 0xffffff;
  return Uint8Array.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
}

/** A 16-bit transport-wide sequence number, big-endian. */
export function transportCcValue(seq: number): Uint8Array {
  return Uint8Array.of((seq >> 8) & 0xff, seq & 0xff);
}

/**
 * The extensions of one forwarded packet, sorted by id. `audioLevel` is the publisher's RFC 6464 byte(s) (only
 * copied when the subscriber negotiated the extension); `transportSeq` is the subscriber transport's next
 * transport-wide sequence number (used only if negotiated).
 */
export function forwardedExtensions(
  plan: ExtensionPlan,
  nowMs: number,
  transportSeq: number | undefined,
  audioLevel: Uint8Array | undefined,
): RtpExtension[] {
  const out: RtpExtension[] = [];
  if (plan.mid !== undefined) {
    out.push({ id: plan.mid.id, payload: plan.mid.value });
  }
  if (plan.absSendTimeId !== undefined) {
    out.push({ id: plan.absSendTimeId, payload: absSendTime(nowMs) });
  }
  if (plan.transportCcId !== undefined && transportSeq !== undefined) {
    out.push({ id: plan.transportCcId, payload: transportCcValue(transportSeq) });
  }
  if (plan.audioLevelId !== undefined && audioLevel !== undefined && audioLevel.length > 0) {
    out.push({ id: plan.audioLevelId, payload: audioLevel });
  }
  return out.sort((a, b) => a.id - b.id);
}

/** The payload of the extension with `uri` in a packet's extension list, given the publisher's id map. */
export function findExtension(
  exts: readonly RtpExtension[],
  publisherIds: ReadonlyMap<string, number>,
  uri: string,
): Uint8Array | undefined {
  const id = publisherIds.get(uri);
  if (id === undefined) {
    return undefined;
  }
  for (const e of exts) {
    if (e.id === id) {
      return e.payload;
    }
  }
  return undefined;
}

/** RFC 6464 audio level byte: V flag and level in -dBov (0 = loudest, 127 = silence). */
export function parseAudioLevel(b: Uint8Array | undefined): { voice: boolean; level: number } | undefined {
  if (b === undefined || b.length < 1) {
    return undefined;
  }
  const x = b[0] as number;
  return { voice: (x & 0x80) !== 0, level: x & 0x7f };
}
