/**
 * TrunkCcLink over fake trunk sends and a fake link: nothing before the first tick; the RR + REMB go out
 * through the link once RTP arrived; a REMB below the demand pauses the top layer with `setPaused` (audio
 * never touched) and probe padding goes out through `sendRtp` (none without it); received padding is
 * reported consumed; report blocks about SSRCs that are not this link's sends do not cut the budget; a layer
 * is resumed (setPaused([])) after the REMB recovers for 1.5 s.
 */
import t from 'tap';
import {
  TrunkCcLink,
  type TrunkCcLinkSender,
  type TrunkCcSend,
} from '../../../src/media/link/trunkCcLink.js';
import { RtpPacketView } from '../../../src/rtp/packetView.js';
import { writeRtpHeader } from '../../../src/rtp/rtpHeader.js';
import { layerTable, type LayerState } from '../../../src/simulcast/layerTable.js';
import type { SrtpHeader } from '../../../src/media/srtpSend.js';
import { parseFeedback } from '../../helpers/trunkCcSim.js';

const layer = (id: number, rid: string | undefined, kbps: number, width: number): LayerState => ({
  id,
  rid,
  ssrc: 1000 + id,
  restricted: width > 0 ? { width, height: (width * 9) / 16 } : undefined,
  measured: undefined,
  bitrateBps: kbps * 1000,
  active: true,
});

function fakeSend(kind: 'audio' | 'video', ssrcs: number[]): TrunkCcSend & { paused: string[][] } {
  const paused: string[][] = [];
  return {
    streamId: 'bob-s',
    trackId: kind === 'audio' ? 'bob-a' : 'bob-v',
    kind,
    closed: false,
    source: {
      selectable: () =>
        kind === 'audio'
          ? layerTable([layer(0, undefined, 40, 0)], undefined)
          : layerTable(
              [layer(0, 'q', 150, 320), layer(1, 'h', 500, 640), layer(2, 'f', 1500, 1280)],
              undefined,
            ),
    },
    demanded: kind === 'audio' ? [] : ['q', 'h', 'f'],
    setPaused: (rids) => {
      paused.push([...rids]);
    },
    ssrcs: () => ssrcs,
    paused,
  };
}

function fakeLink(withRtp: boolean): TrunkCcLinkSender & { rtcp: Uint8Array[]; rtp: number } {
  const l = {
    rtcpSsrc: 77,
    rtcp: [] as Uint8Array[],
    rtp: 0,
    remoteSsrcs: () => [5101, 5111],
    kindOf: (ssrc: number) => (ssrc === 5101 ? ('audio' as const) : ('video' as const)),
    sendRtcp: (b: Uint8Array) => {
      l.rtcp.push(b);
      return true;
    },
    videoPayloadType: 96,
    ...(withRtp
      ? {
          sendRtp: (_h: SrtpHeader, _p: Buffer) => {
            l.rtp++;
            return true;
          },
        }
      : {}),
  };
  return l;
}

const rtp = (ssrc: number, seq: number, padding = false): Uint8Array => {
  const head = writeRtpHeader({
    payloadType: 96,
    sequenceNumber: seq,
    timestamp: seq * 3000,
    ssrc,
    marker: false,
    padding,
    extensions: [],
  });
  const body = padding ? Uint8Array.of(0, 0, 3) : new Uint8Array(1000);
  return Uint8Array.from([...head, ...body]);
};

t.test('wired to a fake link', async (t) => {
  const audio = fakeSend('audio', [4101]);
  const video = fakeSend('video', [4111, 4112, 4113]);
  const cc = new TrunkCcLink({
    maxLinkBps: 20_000_000,
    sends: () => [audio, video],
    paddingSsrc: 0x7a7a0001,
  });
  const link = fakeLink(true);
  const v = new RtpPacketView();
  v.reset(rtp(5111, 1));
  t.equal(cc.onRtp(v, 3, 0), false, 'before the first tick: ignored');
  t.equal(cc.estimateBps(), undefined);
  t.equal(cc.budgetBps(), 20_000_000);
  cc.tick(0, link);
  t.equal(link.rtcp.length, 0, 'no RTCP before a trunk packet');
  t.same(video.paused.at(-1), [], 'no REMB yet: nothing paused');
  for (let i = 0; i < 10; i++) {
    v.reset(rtp(5111, 2 + i));
    t.equal(cc.onRtp(v, 3, 10 + i), false, 'media is routed');
  }
  cc.tick(100, link);
  t.equal(link.rtcp.length, 1, 'RTCP after RTP arrived');
  const fb = parseFeedback(link.rtcp[0]!);
  t.same(
    fb.blocks.map((b) => b.ssrc),
    [5111],
    'a block for the remote trunk SSRC that sent',
  );
  t.same(fb.rembSsrcs, [5111]);

  cc.onReports([{ ssrc: 9999, fractionLost: 255, lsr: 0, dlsr: 0 }], 150);
  t.equal(cc.budgetBps(), 20_000_000, 'blocks about SSRCs not sent here: no cut');
  cc.onRemb(1_000_000, 200);
  t.equal(cc.budgetBps(), 1_000_000);
  cc.tick(300, link);
  t.same(video.paused.at(-1), ['f'], 'f paused under 1 Mbit/s');
  t.same(audio.paused, [], 'audio never paused');
  cc.tick(400, link);
  t.ok(link.rtp > 0, `probe padding sent: ${String(link.rtp)} packets`);

  v.reset(rtp(0x7a7a0002, 1, true));
  t.equal(cc.onRtp(v, 3, 450), true, 'received padding: consumed');

  cc.onRemb(5_000_000, 500);
  for (let at = 500; at < 1900; at += 100) {
    cc.tick(at, link);
  }
  t.same(video.paused.at(-1), ['f'], 'held 1.4 s');
  cc.tick(2000, link);
  t.same(video.paused.at(-1), [], 'resumed after 1.5 s');
  cc.onReports([{ ssrc: 4113, fractionLost: 128, lsr: 0, dlsr: 0 }], 2100);
  t.ok(cc.budgetBps() < 5_000_000, 'loss on one of our SSRCs cuts the budget');
});

t.test('no sendRtp: no padding, still paused', async (t) => {
  const video = fakeSend('video', [4111, 4112, 4113]);
  const cc = new TrunkCcLink({ maxLinkBps: 20_000_000, sends: () => [video] });
  const link = fakeLink(false);
  cc.tick(0, link);
  cc.onRemb(500_000, 10);
  cc.tick(100, link);
  cc.tick(200, link);
  t.same(video.paused.at(-1), ['h', 'f']);
  t.equal(link.rtp, 0);
});

t.test('admit: a newly demanded layer goes on at once only if it fits what the budget leaves', async (t) => {
  const video = fakeSend('video', [4111, 4112, 4113]);
  const cc = new TrunkCcLink({ maxLinkBps: 20_000_000, sends: () => [video] });
  const link = fakeLink(false);
  t.equal(cc.admit('bob-s', 'bob-v', 'f', video.source), true, 'before negotiation: no opinion');
  cc.tick(0, link);
  cc.onRemb(1_000_000, 10);
  cc.tick(100, link); // sends q + h (650 k) of the demanded three
  t.same(video.paused.at(-1), ['f']);
  t.equal(cc.admit('bob-s', 'bob-v', 'f', video.source), false, 'f (1.5 M) does not fit the 350 k left');
  t.equal(cc.admit('bob-s', 'bob-v', 'x', video.source), true, 'a layer of unknown bitrate fits');
  cc.onRemb(5_000_000, 150);
  t.equal(cc.admit('bob-s', 'bob-v', 'f', video.source), true, 'with 5 Mbit/s it fits');
  t.equal(cc.admit('bob-s', 'bob-v', 'f', video.source), true, '… and counts: 650 + 1500 + 1650 ≤ 5000');
  t.equal(cc.admit('bob-s', 'bob-v', 'f', video.source), false, 'a third 1.5 M no longer fits');
});
