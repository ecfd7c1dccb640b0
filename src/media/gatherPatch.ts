/**
 * One wrapper of werift's `RTCIceGatherer.prototype.gather` per purpose (noDefaultStun.ts, udpReceiveBuffer.ts):
 * `before` runs before gathering, `after` once it completed (both with the gatherer). Applied once per `key`
 * (a global symbol, so a second copy of this module does not wrap twice); wrappers chain in import order.
 */
import { RTCIceGatherer } from 'werift';

type Patchable = typeof RTCIceGatherer.prototype & Record<symbol, boolean | undefined>;

export interface GatherHooks {
  before?(g: RTCIceGatherer): void;
  after?(g: RTCIceGatherer): void;
}

export function patchGather(key: string, hooks: GatherHooks): void {
  const proto = RTCIceGatherer.prototype as Patchable;
  const mark = Symbol.for(key);
  if (proto[mark] === true) {
    return;
  }
  const gather = Object.getOwnPropertyDescriptor(proto, 'gather')?.value as (
    this: RTCIceGatherer,
  ) => Promise<void>;
  proto.gather = async function (this: RTCIceGatherer): Promise<void> {
    hooks.before?.(this);
    await gather.call(this);
    hooks.after?.(this);
  };
  proto[mark] = true;
}
