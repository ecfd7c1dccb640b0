/**
 * Micro-benchmark: building one forwarded packet's RTP header (MID + abs-send-time extensions) the old way
 * (a werift RtpHeader + its serialize, as the SRTP layer did) against rtp/rtpHeader.ts. CPU time per header,
 * median of 5 rounds of 200,000. `node --import @tapjs/typescript/import bench/micro/rtpHeader.ts`
 */
import { RtpHeader } from 'werift';
import { writeRtpHeader } from '../../src/rtp/rtpHeader.js';

const N = 200_000;
const mid = Buffer.from('1');
const ast = Buffer.from([1, 2, 3]);

/** The same header fields for both ways of writing it. */
function fields(i: number) {
  return {
    ssrc: 0x11223344,
    payloadType: 96,
    sequenceNumber: i & 0xffff,
    timestamp: i * 3000,
    marker: (i & 7) === 0,
    extensions: [
      { id: 1, payload: mid },
      { id: 3, payload: ast },
    ],
  };
}

function werift(i: number): number {
  const h = new RtpHeader(fields(i));
  return h.serialize(h.serializeSize).length;
}

function ours(i: number): number {
  return writeRtpHeader(fields(i)).length;
}

function time(f: (i: number) => number): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) {
      sink += f(i);
    }
    const c = process.cpuUsage(c0);
    rounds.push(((c.user + c.system) * 1000) / N);
  }
  if (sink === 0) {
    throw new Error('unreachable');
  }
  return rounds.sort((a, b) => a - b)[2]!;
}

time(werift);
time(ours); // warm-up
const a = time(werift);
const b = time(ours);
process.stdout.write(
  `${JSON.stringify({ bench: 'rtpHeader', nsPerHeader: { werift: Math.round(a), ours: Math.round(b) } })}\n`,
);
