/**
 * Start-up recovery of format (d) memberships (protocol.md §3.3b): sticky events are not room state, so after a
 * room's `/state` the SFU pages back through its recent timeline (`GET /rooms/{id}/messages?dir=b`, filtered to
 * the `rtc.member` types) until the events are older than the longest stickiness (1 h), the timeline ends, or
 * `maxPages` pages were read. Returns the events oldest first, ready for MembershipStore.applyEvent.
 */
import type { HomeserverClient } from './homeserverClient.js';
import { isRecord } from './events.js';
import { MAX_STICKY_DURATION_MS } from './membership/sticky.js';
import { RTC_MEMBER_TYPES } from './membership/types.js';

export interface StickyRecoveryOptions {
  /** Events per page (default 100). */
  readonly pageSize?: number;
  /** Pages at most (default 10). */
  readonly maxPages?: number;
}

export interface RecoveredTimeline {
  /** `rtc.member` timeline events sent within the last hour, oldest first, each with `room_id` set. */
  readonly events: Record<string, unknown>[];
  readonly pages: number;
  /** True when `maxPages` ran out before the timeline reached an hour back. */
  readonly truncated: boolean;
}

export async function recoverStickyEvents(
  client: HomeserverClient,
  roomId: string,
  now: number,
  opts: StickyRecoveryOptions = {},
): Promise<RecoveredTimeline> {
  const pageSize = opts.pageSize ?? 100;
  const maxPages = opts.maxPages ?? 10;
  const oldest = now - MAX_STICKY_DURATION_MS;
  const newestFirst: Record<string, unknown>[] = [];
  let from: string | undefined;
  for (let pages = 1; pages <= maxPages; pages++) {
    const page = await client.roomMessages(roomId, {
      dir: 'b',
      limit: pageSize,
      filter: { types: RTC_MEMBER_TYPES },
      ...(from !== undefined ? { from } : {}),
    });
    let reachedOld = false;
    for (const ev of page.chunk) {
      if (!isRecord(ev)) {
        continue;
      }
      const ts = ev['origin_server_ts'];
      if (typeof ts === 'number' && ts < oldest) {
        reachedOld = true;
        break;
      }
      if (typeof ev['type'] === 'string' && RTC_MEMBER_TYPES.includes(ev['type'])) {
        newestFirst.push({ ...ev, room_id: roomId });
      }
    }
    if (reachedOld || page.end === undefined || page.chunk.length === 0) {
      return { events: newestFirst.reverse(), pages, truncated: false };
    }
    from = page.end;
  }
  return { events: newestFirst.reverse(), pages: maxPages, truncated: true };
}
