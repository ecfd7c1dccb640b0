/**
 * Micro-benchmark: the sender's CPU for one forwarded packet (1,150-B payload, header already bytes) through
 * werift's `dtlsTransport.sendRtp` (four nested async calls) against media/srtpSend.ts (encrypt + one
 * socket.send), on a real werift connection over 127.0.0.1. Each round sends a batch and flushes the
 * microtask queue without yielding to I/O, so the receiving peer's work is not in the figure; the two ways
 * alternate, median of 7 rounds of 5,000 packets each.
 * `node --import @tapjs/typescript/import bench/micro/srtpSend.ts`
 */
import type { RtpHeader } from 'werift';
import { sendSrtp } from '../../src/media/srtpSend.js';
import { WireRtpHeader } from '../../src/rtp/rtpHeader.js';
import { connectedWeriftPair } from '../../harness/peers/weriftPair.js';

const N = 5000;
const ROUNDS = 7;

const pair = await connectedWeriftPair();
const tr = pair.sender;
const dtls = tr.sender.dtlsTransport;
const payload = Buffer.alloc(1150, 7);
let seq = 0;
const header = () =>
  new WireRtpHeader({
    ssrc: tr.sender.ssrc,
    payloadType: 96,
    sequenceNumber: seq++ & 0xffff,
    timestamp: seq * 3000,
    marker: false,
    extensions: [],
  });

async function round(way: 'werift' | 'direct'): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (way === 'werift') {
      void dtls.sendRtp(payload, header() as unknown as RtpHeader);
    } else {
      sendSrtp(dtls, payload, header());
    }
  }
  for (let i = 0; i < 50; i++) {
    await Promise.resolve(); // let werift's promise chains run to their socket.send
  }
  const d = process.cpuUsage(t0);
  await new Promise((r) => setTimeout(r, 200)); // drain: the receiver decrypts outside the measurement
  return (d.user + d.system) / N;
}

const res: Record<string, number[]> = { werift: [], direct: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const way of r % 2 === 0 ? (['werift', 'direct'] as const) : (['direct', 'werift'] as const)) {
    res[way]!.push(await round(way));
  }
}
const median = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
const out = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, Math.round(median(v) * 100) / 100]));
process.stdout.write(`${JSON.stringify({ microsecondsPerPacket: out, rounds: ROUNDS, packets: N })}\n`);
await pair.close();
process.exit(0);
