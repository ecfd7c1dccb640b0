/**
 * Trunk congestion control gets each trunk packet's arrival time from the kernel when the add-on reads the
 * link's socket (media/udpReceive.ts `receiveWaits`, native/udp.c SO_TIMESTAMPNS): two LinkPeers with real
 * werift on loopback in one process; A's trunk batch leaves (turnEnd released at once), then the event loop is
 * held for 80 ms — B reads the packets after the hold, and its congestion control is told they arrived before
 * it. Without the arrival time (node:dgram's reading) the estimate would see 80 ms of queueing on a trunk that
 * has none (protocol.md §8.5).
 */
import t from 'tap';
import { turnEnd } from '../../../src/media/turnEnd.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { systemClock } from '../../../src/util/clock.js';
import { waitFor } from '../../../harness/stack.js';
import { linkPair, sourceTrack } from '../../helpers/linkPair.js';
import { NATIVE_SKIP } from '../../unit/media/srtp/impls.js';

const HOLD_MS = 80;

t.test(
  'a trunk packet read late: congestion control gets its kernel arrival time',
  { skip: NATIVE_SKIP },
  async (t) => {
    const { a, b, close } = await linkPair();
    t.teardown(close);
    const seen: { seq: number; at: number; readAt: number }[] = [];
    b.peer.setCongestionControl({
      onRtp: (view, _absId, now) => {
        seen.push({ seq: view.seq, at: now, readAt: systemClock.now() });
        return false;
      },
    });
    const source = sourceTrack({ kind: 'video', mid: '1', rids: ['q'], pliMinIntervalMs: 0 });
    const send = a.peer.sendTrack(source, 's', 'v', { layers: [{ layerId: 0, rid: 'q', ssrc: 0x7401 }] });
    t.teardown(() => {
      send.close();
    });
    send.setLayers(['q']);
    const v = new RtpPacketView();
    const packet = (seq: number) => {
      const head = writeRtpHeader({
        ssrc: 0x2101,
        sequenceNumber: seq,
        timestamp: seq * 3000,
        payloadType: 96,
        marker: true,
        extensions: [],
      });
      // A VP8 keyframe's first packet (descriptor, then the key frame's start).
      const body = [
        0x90,
        0x80,
        0x80 | (seq >> 8),
        seq & 0xff,
        0x10,
        0x02,
        0x00,
        0x9d,
        0x01,
        0x2a,
        0x40,
        0x01,
      ];
      v.reset(Buffer.concat([head, Buffer.from(body)]));
      source.handle(v, 'q');
    };

    // Warm-up: a prompt packet (read as soon as it came).
    packet(100);
    await waitFor(() => seen.length >= 1, 10_000, 'the first trunk packet at B');
    const prompt = seen[seen.length - 1]!;
    t.ok(
      prompt.readAt - prompt.at < 30,
      `a prompt packet arrived just before it was read (${prompt.readAt - prompt.at} ms)`,
    );

    // A's batch leaves now; the loop is then held, so B reads it HOLD_MS later.
    turnEnd.hold();
    const sentAt = systemClock.now();
    packet(101);
    turnEnd.release();
    const end = Date.now() + HOLD_MS;
    while (Date.now() < end) {
      // the event loop is held
    }
    await waitFor(() => seen.some((s) => s.seq === 101), 10_000, 'the held trunk packet at B');
    const held = seen.find((s) => s.seq === 101)!;
    t.ok(
      held.readAt - sentAt >= HOLD_MS - 2,
      `read after the hold (${held.readAt - sentAt} ms after sending)`,
    );
    t.ok(
      held.at - sentAt < 20,
      `its arrival time is before the hold (${held.at - sentAt} ms after sending, read ${held.readAt - held.at} ms later)`,
    );
  },
);
