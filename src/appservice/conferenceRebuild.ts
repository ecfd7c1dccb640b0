/**
 * The start-up rebuild of protocol.md §8.7: once the rooms are bootstrapped (`GET /joined_rooms` +
 * `GET /rooms/{id}/state`, membershipService.ts), every conference whose live memberships name this focus and
 * another focus is created and its links started (ConferenceManager.rebuild → Links.rebuild), as if those
 * membership events had just been pushed, with the usual policy and bounds (§8.1). At most `maxConferences`; a
 * failure is logged once per room and never stops the others.
 */
import type { Logger } from 'pino';
import type { FocusRef } from '../conference/ports.js';
import { toError } from '../util/errors.js';
import { planRebuild, type RebuildSource } from './membership/rebuildPlan.js';

export interface RebuildTargetPort {
  rebuild(roomId: string, confId: string): 'rebuilt' | 'exists' | 'closed';
}

export interface ConferenceRebuildOptions {
  source: RebuildSource;
  conferences: RebuildTargetPort;
  focus: FocusRef;
  now: number;
  maxConferences: number;
  log: Logger;
}

export interface RebuildReport {
  rebuilt: number;
  existing: number;
  skipped: number;
  failedRooms: number;
}

export function rebuildConferences(o: ConferenceRebuildOptions): RebuildReport {
  const report: RebuildReport = { rebuilt: 0, existing: 0, skipped: 0, failedRooms: 0 };
  let plan;
  try {
    plan = planRebuild(o.source, o.focus, o.now, o.maxConferences);
  } catch (e) {
    o.log.error({ err: toError(e).message }, 'conference rebuild could not be planned');
    return report;
  }
  report.skipped = plan.skipped;
  const failed = new Set<string>();
  for (const c of plan.conferences) {
    if (failed.has(c.roomId)) {
      continue;
    }
    try {
      const r = o.conferences.rebuild(c.roomId, c.confId);
      if (r === 'closed') {
        break;
      }
      if (r === 'rebuilt') {
        report.rebuilt++;
      } else {
        report.existing++;
      }
    } catch (e) {
      failed.add(c.roomId);
      o.log.warn({ roomId: c.roomId, err: toError(e).message }, 'conference rebuild failed for this room');
    }
  }
  report.failedRooms = failed.size;
  if (plan.skipped > 0) {
    o.log.warn(
      { skipped: plan.skipped, max: o.maxConferences },
      'more conferences to rebuild than limits.max_joined_rooms: the rest wait for their members',
    );
  }
  o.log.info({ ...report, local: plan.local }, 'conferences rebuilt from room state');
  return report;
}
