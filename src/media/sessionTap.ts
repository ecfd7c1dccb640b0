/**
 * Hands every session werift assigns to one of a DTLS transport's per-transport session properties (`srtp`,
 * `srtcp`) to `wrap`: the one there now, and each later one. werift@0.24.4 assigns both only in
 * `RTCDtlsTransport.updateSrtpSession` (called by `startSrtp`), so that method is wrapped — once per class, on
 * the prototype that defines it — to run the transport's hooks after it. The transport object itself is never
 * changed: an own accessor in place of its `srtp` field (how this was done before) turned every werift DTLS
 * transport into a dictionary-mode object, and then each of the send path's reads of its `state`,
 * `bytesSent` and `packetsSent` — per forwarded packet and subscriber — a generic property lookup (bench/README.md
 * "A DTLS transport in dictionary mode"). Used by decryptedRtpTap.ts and srtcpTap.ts. Returns false where
 * werift's shape is not this one (no own data property of that name, or no `updateSrtpSession` method on the
 * transport's prototype chain); `tapped` makes it once per object and property.
 */

/** The method of werift's RTCDtlsTransport that assigns `srtp` and `srtcp` (werift@0.24.4). */
const ASSIGNER = 'updateSrtpSession';

type Hook = () => void;

/** Per transport: what runs after each of its session assignments. */
const hooks = new WeakMap<object, Hook[]>();
/** Prototypes whose assigner is wrapped already. */
const wrappedAssigners = new WeakSet<object>();

type Method = (this: object, ...args: unknown[]) => unknown;

/** The prototype on `target`'s chain that defines the assigner as a writable method, with its descriptor. */
function assignerOf(target: object): { owner: object; desc: PropertyDescriptor } | undefined {
  for (
    let o = Object.getPrototypeOf(target) as object | null;
    o !== null;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    const desc = Object.getOwnPropertyDescriptor(o, ASSIGNER);
    if (desc !== undefined) {
      return typeof desc.value === 'function' && desc.writable === true && desc.configurable === true
        ? { owner: o, desc }
        : undefined;
    }
  }
  return undefined;
}

/** Replaces `owner`'s assigner (once) with one that runs the transport's hooks after it. */
function wrapAssigner(owner: object, desc: PropertyDescriptor): void {
  if (wrappedAssigners.has(owner)) {
    return;
  }
  wrappedAssigners.add(owner);
  const original = desc.value as Method;
  Object.defineProperty(owner, ASSIGNER, {
    ...desc,
    value: function (this: object, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      const list = hooks.get(this);
      if (list !== undefined) {
        for (const hook of list) {
          hook();
        }
      }
      return result;
    },
  });
}

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
  if (desc === undefined || !('value' in desc)) {
    return false;
  }
  const assigner = assignerOf(target);
  if (assigner === undefined) {
    return false;
  }
  wrapAssigner(assigner.owner, assigner.desc);
  tapped.add(target);
  const read = (): void => {
    wrap((target as Record<string, unknown>)[prop]);
  };
  const list = hooks.get(target);
  if (list === undefined) {
    hooks.set(target, [read]);
  } else {
    list.push(read);
  }
  read();
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
