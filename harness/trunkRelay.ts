/**
 * A UDP relay on the trunk between two foci (or any two users whose call signalling goes through the test
 * homeserver), for link outage, cap and loss tests — with no test-only code in the SFU: the test homeserver's
 * to-device hook (`rewriteToDevice`) rewrites the ICE candidates of the call events between the two users, in
 * their SDP (`m.call.invite` offer, `m.call.answer` answer, `m.call.negotiate` description) and trickled
 * (`m.call.candidates`), so that each side sees exactly one candidate for the other: the relay socket that
 * stands for it. Every other candidate is dropped, so no direct path bypasses the relay.
 *
 * One UdpRelay per call (`call_id`): a relink with a new call gets fresh sockets and fresh addresses, while the
 * old call's datagrams keep to their own relay; an ICE restart in the same call replaces the addresses. Side A is
 * the relay's "client" side (direction `ab` = A → B = UdpRelay `up`). Rules apply to every call's relay, present
 * and future; stats are summed over them. Relays come from a small pool bound in advance (the hook must answer
 * synchronously) and refilled in the background; a call arriving while the pool is empty has its call event
 * dropped and is counted in `starved`.
 */
import type { TestHomeserver } from './homeserver/index.js';
import { UdpRelay, type DirectionStats, type LinkRules, type SsrcStats } from './udpRelay.js';

export type TrunkDirection = 'ab' | 'ba' | 'both';

export interface TrunkRelay {
  /** Rules for one direction (or both) of every call's relay; take effect for the next datagram. */
  setRules(dir: TrunkDirection, rules: LinkRules): void;
  /** Drops every datagram both ways for `ms`, then restores the rules in force before. */
  blackhole(ms: number): Promise<void>;
  /** Summed over every call's relay; `perSsrc` is keyed by RTP SSRC. */
  stats(dir: 'ab' | 'ba'): DirectionStats;
  /** Call ids routed through the relay, in order of first sight. */
  readonly calls: string[];
  /** Candidates rewritten to the relay, per side that sent them. */
  readonly rewritten: { a: number; b: number };
  /** Call events dropped because no relay was ready (should stay 0). */
  readonly starved: number;
  close(): void;
}

export interface TrunkRelayOptions {
  rules?: { ab?: LinkRules; ba?: LinkRules };
  /** Seed of the first relay's loss PRNG (each further call adds 1). */
  seed?: number;
  /** Relays bound in advance (default 4). */
  pool?: number;
}

const CALL_TYPES = new Set(['m.call.invite', 'm.call.answer', 'm.call.candidates', 'm.call.negotiate']);
/** The SDP-carrying field of each call event type. */
const SDP_FIELD: Record<string, string> = {
  'm.call.invite': 'offer',
  'm.call.answer': 'answer',
  'm.call.negotiate': 'description',
};
const MAX_CALLS = 256;

/** A loopback UDP host candidate of component 1 (the only kind relayed); `candidate:` with or without `a=`. */
export function parseLoopbackCandidate(
  line: string,
): { address: string; port: number; fields: string[] } | undefined {
  const fields = line.replace(/^a=/, '').trim().split(/\s+/);
  if (fields.length < 8 || !fields[0]!.startsWith('candidate:') || fields[2]!.toLowerCase() !== 'udp') {
    return undefined;
  }
  const port = Number(fields[5]);
  if (fields[1] !== '1' || fields[4] !== '127.0.0.1' || fields[7] !== 'host' || !Number.isInteger(port)) {
    return undefined;
  }
  return { address: fields[4], port, fields };
}

/**
 * The content of one call event with its candidates passed through `rewrite` (which returns the replacement
 * candidate, or undefined to drop it); only the first candidate `rewrite` keeps per event is kept. Returns null
 * when a `m.call.candidates` event is left with nothing to say. Other events are returned as they are.
 */
export function rewriteCallCandidates(
  type: string,
  content: Record<string, unknown>,
  rewrite: (candidate: string) => string | undefined,
): Record<string, unknown> | null {
  let kept = false;
  const one = (candidate: string): string | undefined => {
    if (kept) {
      return undefined;
    }
    const r = rewrite(candidate);
    kept = r !== undefined;
    return r;
  };
  const field = SDP_FIELD[type];
  if (field !== undefined) {
    const desc = content[field] as { type?: unknown; sdp?: unknown } | undefined;
    if (typeof desc?.sdp !== 'string') {
      return content;
    }
    const lines = desc.sdp.split('\r\n').flatMap((line) => {
      if (!line.startsWith('a=candidate:')) {
        return [line];
      }
      const r = one(line.slice(2));
      return r === undefined ? [] : [`a=${r}`];
    });
    return { ...content, [field]: { ...desc, sdp: lines.join('\r\n') } };
  }
  if (type === 'm.call.candidates' && Array.isArray(content['candidates'])) {
    const candidates = (content['candidates'] as { candidate?: unknown }[]).flatMap((c) => {
      if (typeof c.candidate !== 'string' || c.candidate === '') {
        return [c];
      }
      const r = one(c.candidate);
      return r === undefined ? [] : [{ ...c, candidate: r }];
    });
    return candidates.length === 0 ? null : { ...content, candidates };
  }
  return content;
}

function emptyStats(): DirectionStats {
  return {
    forwarded: 0,
    repeatedRtpBytes: 0,
    droppedLoss: 0,
    droppedQueue: 0,
    droppedBlackhole: 0,
    bytes: 0,
    perSsrc: new Map(),
    rtcpByType: new Map(),
    droppedRtp: new Map(),
  };
}

function addStats(sum: DirectionStats, s: DirectionStats): void {
  sum.forwarded += s.forwarded;
  sum.repeatedRtpBytes += s.repeatedRtpBytes;
  sum.droppedLoss += s.droppedLoss;
  sum.droppedQueue += s.droppedQueue;
  sum.droppedBlackhole += s.droppedBlackhole;
  sum.bytes += s.bytes;
  for (const [ssrc, x] of s.perSsrc) {
    const t: SsrcStats = sum.perSsrc.get(ssrc) ?? {
      pt: x.pt,
      packets: 0,
      bytes: 0,
      repeated: 0,
      lost: 0,
      lostSeqs: 0,
      repaired: 0,
      dropped: 0,
    };
    t.pt = x.pt;
    t.packets += x.packets;
    t.bytes += x.bytes;
    t.repeated += x.repeated;
    t.lost += x.lost;
    t.lostSeqs += x.lostSeqs;
    t.repaired += x.repaired;
    t.dropped += x.dropped;
    sum.perSsrc.set(ssrc, t);
  }
  for (const [pt, n] of s.rtcpByType) {
    sum.rtcpByType.set(pt, (sum.rtcpByType.get(pt) ?? 0) + n);
  }
  for (const [ssrc, x] of s.droppedRtp) {
    const t = sum.droppedRtp.get(ssrc) ?? { pt: x.pt, seqs: [] };
    t.seqs.push(...x.seqs);
    sum.droppedRtp.set(ssrc, t);
  }
}

/** Relays the call between `userA` and `userB` (any two users of `hs`, e.g. two focus users). */
export async function relayCallsBetween(
  hs: TestHomeserver,
  userA: string,
  userB: string,
  opts: TrunkRelayOptions = {},
): Promise<TrunkRelay> {
  if (userA === userB) {
    throw new Error(`relayCallsBetween: ${userA} twice`);
  }
  const poolSize = opts.pool ?? 4;
  let seed = opts.seed ?? 1;
  const rules = { ab: { ...opts.rules?.ab }, ba: { ...opts.rules?.ba } };
  const pool: UdpRelay[] = [];
  const byCall = new Map<string, UdpRelay>();
  const calls: string[] = [];
  const rewritten = { a: 0, b: 0 };
  let starved = 0;
  let refilling = 0;
  let closed = false;

  const refill = (): void => {
    while (!closed && pool.length + refilling < poolSize) {
      refilling++;
      void UdpRelay.create(seed++).then(
        (r) => {
          refilling--;
          if (closed) {
            r.close();
          } else {
            pool.push(r);
          }
        },
        () => {
          refilling--;
        },
      );
    }
  };
  for (let i = 0; i < poolSize; i++) {
    pool.push(await UdpRelay.create(seed++));
  }

  const relayFor = (callId: string): UdpRelay | undefined => {
    let relay = byCall.get(callId);
    if (relay === undefined && byCall.size < MAX_CALLS) {
      relay = pool.shift();
      if (relay !== undefined) {
        relay.setRules('up', rules.ab);
        relay.setRules('down', rules.ba);
        byCall.set(callId, relay);
        calls.push(callId);
        refill();
      }
    }
    return relay;
  };

  const remove = hs.rewriteToDevice(({ sender, recipient, type, content }) => {
    const fromA = sender === userA && recipient === userB;
    if (!(fromA || (sender === userB && recipient === userA)) || !CALL_TYPES.has(type)) {
      return content;
    }
    const callId = content['call_id'];
    if (typeof callId !== 'string') {
      return content; // the SFU refuses it anyway
    }
    const relay = relayFor(callId);
    if (relay === undefined) {
      starved++;
      return null;
    }
    return rewriteCallCandidates(type, content, (candidate) => {
      const c = parseLoopbackCandidate(candidate);
      if (c === undefined) {
        return undefined;
      }
      const fields = [...c.fields];
      if (fromA) {
        relay.setClientAddress(c.address, c.port, true);
        fields[5] = String(relay.sfuSidePort);
        rewritten.a++;
      } else {
        relay.setSfuAddress(c.address, c.port);
        fields[5] = String(relay.clientSidePort);
        rewritten.b++;
      }
      return fields.join(' ');
    });
  });

  const setRules = (dir: TrunkDirection, r: LinkRules): void => {
    for (const d of dir === 'both' ? (['ab', 'ba'] as const) : [dir]) {
      rules[d] = { ...r };
      for (const relay of byCall.values()) {
        relay.setRules(d === 'ab' ? 'up' : 'down', r);
      }
    }
  };

  return {
    setRules,
    async blackhole(ms) {
      const before = { ab: rules.ab, ba: rules.ba };
      setRules('ab', { ...before.ab, blackhole: true });
      setRules('ba', { ...before.ba, blackhole: true });
      await new Promise((r) => setTimeout(r, ms));
      if (!closed) {
        setRules('ab', before.ab);
        setRules('ba', before.ba);
      }
    },
    stats(dir) {
      const sum = emptyStats();
      for (const relay of byCall.values()) {
        addStats(sum, relay.stats(dir === 'ab' ? 'up' : 'down'));
      }
      return sum;
    },
    calls,
    rewritten,
    get starved() {
      return starved;
    },
    close() {
      if (closed) {
        return;
      }
      closed = true;
      remove();
      for (const relay of [...pool, ...byCall.values()]) {
        relay.close();
      }
      pool.length = 0;
    },
  };
}

/** The trunk between the foci of two server names of a multi-focus stack (harness/multiStack.ts). */
export function insertTrunkRelay(
  ms: { hs: TestHomeserver; node(serverName: string): { focus: { user_id: string } } },
  serverA: string,
  serverB: string,
  rules: { ab?: LinkRules; ba?: LinkRules } = {},
  opts: Omit<TrunkRelayOptions, 'rules'> = {},
): Promise<TrunkRelay> {
  return relayCallsBetween(ms.hs, ms.node(serverA).focus.user_id, ms.node(serverB).focus.user_id, {
    ...opts,
    rules,
  });
}
