/**
 * The trunk between two real foci blackholed for 5 s, both ways, then restored (trunkOutageRun.ts): the link is
 * suspended and ICE-restarted meanwhile (protocol.md §8.7); media is back at the subscriber within 2 s of the
 * restore and neither client is renegotiated.
 */
import t from 'tap';
import { outageMs, trunkOutage } from './trunkOutageRun.js';

const OUTAGE_MS = outageMs(5000);

t.test(
  `trunk blackholed for ${OUTAGE_MS} ms, then restored: media back within 2 s, no client renegotiation`,
  (t) => trunkOutage(t, OUTAGE_MS),
);
