/**
 * Bench smoke test of `meeting --pin`: the focus pinned to CPU 0 and the load on the other CPUs, the
 * participants receiving through the cheap receive path (bench/lib/cheapReceive.ts: werift's receive path
 * skipped, every packet decrypted with one cipher per association). Three participants for 2 s: every
 * participant's 640×360 layer reaches the two others (nothing of another layer, no loss to speak of), the
 * focus's CPU and the load's are measured, and the point says what it is. No timing threshold: the figures are
 * printed, not judged (speed targets live in bench/).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import t from 'tap';
import { latencySide, meetingPoint } from '../../bench/scenarios/meeting.js';
import { receiveBinding } from '../../src/media/udpReceive.js';

t.test('latencySide: the side whose event loop stalled half the limit or longer', async (t) => {
  t.equal(latencySide(3, 40), 'load');
  t.equal(latencySide(30, 4), 'sfu');
  t.equal(latencySide(12, 12), 'both');
  t.equal(latencySide(9.9, 9.9), 'unknown');
  t.equal(latencySide(10, 0), 'sfu', 'half the limit (10 ms) counts');
});

t.test(
  'latencySide with the latency at the sockets: the load when the packets reached them in time',
  async (t) => {
    t.equal(
      latencySide(30, 40, 12),
      'load',
      'in time at the sockets: the load read them late, whatever stalled',
    );
    t.equal(latencySide(3, 40, 20), 'load', 'the limit itself is in time');
    t.equal(latencySide(3, 40, 20.01), 'unknown', 'late at the sockets, and the focus did not stall');
    t.equal(latencySide(12, 40, 25), 'sfu', 'late at the sockets, the focus stalled half the limit');
    t.equal(latencySide(12, 12, undefined), 'both', 'not measured: the stalls decide');
  },
);

t.test(
  'meeting --pin with 3 participants for 2 s',
  { skip: cpus().length < 2 ? 'pinning needs 2 CPUs' : false },
  async (t) => {
    const before = readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)?.[1];
    const p = await meetingPoint(
      3,
      2,
      (s) => {
        t.comment(s);
      },
      { pin: true, warmupS: 1 },
    );
    t.comment(JSON.stringify(p));
    t.equal(p.pinned, true);
    t.equal(p.forwardedStreams, 6);
    t.ok(p.expected > 0, 'the participants sent their 640×360 layer in the window');
    t.ok(p.loss <= 0.01, `the cheap receive path got ≥ 99 % of it (loss ${p.loss})`);
    t.equal(p.otherLayerPackets, 0, 'nothing of another layer');
    t.ok(p.latencyMs.p50 !== undefined, 'latency read from the decrypted payloads');
    if (receiveBinding() !== null) {
      const at = p.latencyAtSocketMs;
      t.ok(at?.p50 !== undefined, 'the latency at the sockets measured (the load reads them in batches)');
      // Each sample at the socket is its packet's latency less the time it waited there: never more.
      t.ok(
        (at?.p50 ?? Infinity) <= (p.latencyMs.p50 ?? -1),
        `p50 at the socket ${at?.p50} ≤ ${p.latencyMs.p50}`,
      );
      t.ok(
        (at?.max ?? Infinity) <= (p.latencyMs.max ?? -1),
        `max at the socket ${at?.max} ≤ ${p.latencyMs.max}`,
      );
    } else {
      t.equal(p.latencyAtSocketMs, undefined, 'no batch reading without the add-on: not measured');
    }
    t.ok(p.sfuCpuPct > 0 && p.loadCpuPct > 0, 'the focus and the load measured');
    t.equal(p.clientCpuPct.length, 3, 'three load processes');
    const after = readFileSync('/proc/self/status', 'utf8').match(/Cpus_allowed_list:\s*(\S+)/)?.[1];
    t.not(after, before, 'the bench process itself was moved off CPU 0');
  },
);
