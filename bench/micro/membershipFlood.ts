/**
 * Micro-benchmark: the issue-17 transaction — N `m.room.member` events for one user next to a format (a)
 * membership event of that user with N devices — PUT to a test SFU's appservice API (strict body checks, the real
 * TransactionProcessor, MembershipService and store; no homeserver). Reports the time until the transaction was
 * processed and the longest stall of the event loop meanwhile (a 5 ms interval timer's worst lateness), for
 * each N. `node --import @tapjs/typescript/import bench/micro/membershipFlood.ts [N,N,...]` (default 1000,5000).
 */
import { asApp, buildTestSfu, HS_TOKEN } from '../../harness/sfu.js';

const ROOM = '!flood:example.org';
const USER = '@flood:example.org';
const T0 = 1_700_000_000_000;

function body(n: number): unknown {
  const devices = Array.from({ length: n }, (_, i) => ({
    device_id: `D${i}`,
    session_id: `s${i}`,
    expires_ts: Date.now() + 3_600_000,
    feeds: [],
    'org.matrix.msc3898.foci.active': [{ user_id: '@sfu:example.org', device_id: 'SFUDEV1' }],
  }));
  const events: unknown[] = [
    {
      type: 'org.matrix.msc3401.call.member',
      state_key: USER,
      sender: USER,
      room_id: ROOM,
      event_id: '$calls',
      origin_server_ts: T0,
      content: { 'm.calls': [{ 'm.call_id': 'conf', 'm.devices': devices }] },
    },
  ];
  for (let i = 0; i < n; i++) {
    events.push({
      type: 'm.room.member',
      state_key: USER,
      sender: USER,
      room_id: ROOM,
      event_id: `$m${i}`,
      origin_server_ts: T0 + 1 + i,
      content: { membership: i % 2 === 0 ? 'leave' : 'join' },
    });
  }
  return { events };
}

async function run(
  n: number,
): Promise<{ n: number; bytes: number; processedMs: number; maxStallMs: number }> {
  const sfu = buildTestSfu();
  try {
    const app = asApp(sfu);
    const payload = JSON.stringify(body(n));
    let maxStall = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      maxStall = Math.max(maxStall, now - last - 5);
      last = now;
    }, 5);
    const t0 = performance.now();
    const res = await app.inject({
      method: 'PUT',
      url: `/_matrix/app/v1/transactions/flood-${n}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${HS_TOKEN}` },
      payload,
    });
    if (res.statusCode !== 200) {
      throw new Error(`PUT answered ${res.statusCode}: ${res.body}`);
    }
    await sfu.transactions.drain();
    const processedMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(tick);
    return {
      n,
      bytes: payload.length,
      processedMs: Math.round(processedMs),
      maxStallMs: Math.round(maxStall),
    };
  } finally {
    await sfu.stop('bench');
  }
}

const sizes = (process.argv[2] ?? '1000,5000').split(',').map(Number);
for (const n of sizes) {
  process.stdout.write(`${JSON.stringify(await run(n))}\n`);
}
