/**
 * Takes over one of werift's per-transport session properties (`srtp`, `srtcp`: replaced on every SRTP
 * (re)start) so that every session ever assigned there is handed to `wrap` first: the property becomes an
 * accessor over the same value. Used by decryptedRtpTap.ts and srtcpTap.ts. Returns false where werift's shape
 * is not this one (no configurable own data property of that name); `tapped` makes it once per object.
 */
export function wrapEachAssigned(
  target: object,
  prop: string,
  tapped: WeakSet<object>,
  wrap: (session: unknown) => void,
): boolean {
  if (tapped.has(target)) {
    return true;
  }
  const desc = Object.getOwnPropertyDescriptor(target, prop);
  if (desc === undefined || !('value' in desc) || desc.configurable !== true) {
    return false;
  }
  tapped.add(target);
  let current: unknown = desc.value;
  wrap(current);
  Object.defineProperty(target, prop, {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (v: unknown) => {
      current = v;
      wrap(v);
    },
  });
  return true;
}

/** Hands one unprotected packet to a tap's sink; a throwing sink is contained (a bug there must not reach werift's or the socket's loop). */
export function feedSink(sink: (plain: Buffer) => void, plain: Buffer): void {
  try {
    sink(plain);
  } catch {
    // the sinks never throw (IngestDemux.receive, readRtcpBytes)
  }
}
