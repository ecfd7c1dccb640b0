/**
 * The trunk between two real foci blackholed for 8 s, both ways, then restored (trunkOutageRun.ts): longer than
 * the ICE-restart's first round of connectivity checks (≈ 1.6 s after the suspension at 2 s), so before the
 * re-checks of media/link/iceRecheck.ts nothing tried again until the relink at 7 s, whose new call then waited
 * out its 20 s set-up timeout (media came back ≈ 20 s after the restore). Now the relink's new call keeps checking
 * and connects as soon as the path is back: media within 2 s, no client renegotiation.
 */
import t from 'tap';
import { outageMs, trunkOutage } from './trunkOutageRun.js';

const OUTAGE_MS = outageMs(8000);

t.test(
  `trunk blackholed for ${OUTAGE_MS} ms, then restored: media back within 2 s, no client renegotiation`,
  (t) => trunkOutage(t, OUTAGE_MS),
);
