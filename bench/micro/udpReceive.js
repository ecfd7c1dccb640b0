/**
 * Micro-benchmark: the receiving process's CPU per datagram, node:dgram's 'message' events vs the add-on's
 * batches (src/media/udpReceive.ts). A child process sends 1,200-byte datagrams on loopback at a steady rate
 * (in 1-ms steps); this process receives them one way or the other, alternating, ROUNDS rounds of SECONDS
 * each per rate, the handler only counting; CPU (user + system) of this process ÷ datagrams received is the
 * figure, with the GC pauses of the window. On loopback the kernel's receive work (softirq) is mostly charged
 * to the sender, so this is the receiving side's own cost: wake-ups, system calls, the runtime's per-datagram
 * work. Plain JavaScript on the build (`npm run build` first): under the TypeScript loader's hooks the batched
 * path measured twice its cost in a plain `node`.
 * `node --no-memory-reducer bench/micro/udpReceive.js [rates, default 330,3300,20000]`
 */
import { Buffer } from 'node:buffer';
import { fork } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { fileURLToPath, URL } from 'node:url';

const SECONDS = 3;
const ROUNDS = 4;
const SIZE = 1200;
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === 'send') {
  const port = Number(process.argv[3]);
  const rate = Number(process.argv[4]);
  const s = createSocket('udp4');
  const d = Buffer.alloc(SIZE, 7);
  const t0 = performance.now();
  let sent = 0;
  const step = () => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    while (sent < due) {
      s.send(d, port, '127.0.0.1');
      sent++;
    }
    setTimeout(step, 1);
  };
  step();
} else {
  const built = fileURLToPath(new URL('../../dist/src/media/udpReceive.js', import.meta.url));
  if (!existsSync(built)) {
    process.stdout.write('no build: run `npm run build` first\n');
    process.exit(1);
  }
  const { receiveBinding, receiveInBatches } = await import(built);
  if (receiveBinding() === null) {
    process.stdout.write(
      'the add-on is not built (or SFU_NATIVE=0 / SFU_RECV_BATCH=0): nothing to compare\n',
    );
    process.exit(0);
  }
  let gc = { count: 0, ms: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });

  const measure = async (rate, way) => {
    const rx = createSocket('udp4');
    rx.bind(0, '127.0.0.1');
    await once(rx, 'listening');
    let got = 0;
    const handler = () => {
      got++;
      return false;
    };
    if (way === 'batch') {
      receiveInBatches(rx, handler, (e) => {
        throw e;
      });
    } else {
      rx.on('message', handler);
    }
    const child = fork(self, ['send', String(rx.address().port), String(rate)], { execArgv: [] });
    await new Promise((r) => setTimeout(r, 1000)); // the sender starts
    gc = { count: 0, ms: 0 };
    const c0 = process.cpuUsage();
    const g0 = got;
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const c = process.cpuUsage(c0);
    const n = got - g0;
    const gcNow = gc;
    child.kill();
    await once(child, 'exit');
    rx.close();
    return { us: (c.user + c.system) / Math.max(1, n), received: n, gcCount: gcNow.count, gcMs: gcNow.ms };
  };

  const rates = (process.argv[2] ?? '330,3300,20000').split(',').map(Number);
  const result = {};
  for (const rate of rates) {
    const r = (result[rate] = { dgram: [], batch: [] });
    for (let round = 0; round < ROUNDS; round++) {
      for (const way of round % 2 === 0 ? ['dgram', 'batch'] : ['batch', 'dgram']) {
        r[way].push(await measure(rate, way));
      }
    }
  }
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
  process.stdout.write(
    'rate/s     node:dgram  batches   (CPU µs per datagram received, median; GC pauses per window)\n',
  );
  for (const [rate, r] of Object.entries(result)) {
    const us = (w) => median(r[w].map((x) => x.us)).toFixed(2);
    const g = (w) => median(r[w].map((x) => x.gcCount));
    process.stdout.write(
      `${rate.padEnd(10)} ${us('dgram').padStart(10)} ${us('batch').padStart(8)}   GC ${g('dgram')} / ${g('batch')}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify({ perRound: result, seconds: SECONDS, size: SIZE })}\n`);
}
