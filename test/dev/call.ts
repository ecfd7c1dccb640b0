/**
 * `npm run dev:call`: against a running `npm run dev`, two users (alice, bob) join one call through the
 * SFU with werift peers and print "connected" for each; then they hang up. Exits 0 on success, 1 otherwise
 * (30 s limit). DEV_HS_URL (default http://127.0.0.1:8008) points at the dev homeserver.
 */
import { randomBytes } from 'node:crypto';
import { CallClient } from '../../client/index.js';
import { WeriftPeer } from '../../harness/peers/index.js';

const hsUrl = process.env['DEV_HS_URL'] ?? 'http://127.0.0.1:8008';
const out = (s: string) => process.stdout.write(`${s}\n`);

async function api(
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(new URL(path, hsUrl), {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

async function register(name: string): Promise<{ userId: string; accessToken: string; deviceId: string }> {
  const suffix = randomBytes(3).toString('hex');
  const res = await api('POST', '/_matrix/client/v3/register', undefined, {
    username: `${name}-${suffix}`,
    password: randomBytes(12).toString('hex'),
    device_id: `${name.toUpperCase()}DEV`,
    auth: { type: 'm.login.dummy' },
  });
  return {
    userId: String(res['user_id']),
    accessToken: String(res['access_token']),
    deviceId: String(res['device_id']),
  };
}

async function main(): Promise<void> {
  const versions = await api('GET', '/_matrix/client/versions', undefined).catch(() => undefined);
  if (versions === undefined) {
    throw new Error(`no homeserver at ${hsUrl}: start it with "npm run dev"`);
  }
  const status = await fetch(`http://127.0.0.1:${process.env['DEV_HTTP_PORT'] ?? '8080'}/status`).then(
    (r) => r.json() as Promise<{ focus: { user_id: string; device_id: string } }>,
  );
  const focus = status.focus;
  const alice = await register('alice');
  const bob = await register('bob');
  const room = await api('POST', '/_matrix/client/v3/createRoom', alice.accessToken, {
    preset: 'public_chat',
    name: 'dev call',
  });
  const roomId = String(room['room_id']);
  await api('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, bob.accessToken, {});
  await api('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, alice.accessToken, {
    user_id: focus.user_id,
  });
  out(`room ${roomId}: alice ${alice.userId}, bob ${bob.userId}, focus ${focus.user_id}/${focus.device_id}`);

  const confId = `dev-${Date.now()}`;
  const clients = [alice, bob].map(
    (u) =>
      new CallClient({
        hsUrl,
        userId: u.userId,
        accessToken: u.accessToken,
        deviceId: u.deviceId,
        peer: new WeriftPeer(),
      }),
  );
  try {
    await Promise.all(
      clients.map(async (c, i) => {
        await c.publishMembership(roomId, focus);
        await c.invite({ focus, confId, roomId, offerOpts: { dataChannel: true } });
        await c.waitForAnswer(20_000);
        await c.peer.waitConnected(20_000);
        await c.peer.waitDataChannelOpen(20_000);
        out(`${i === 0 ? 'alice' : 'bob'} connected`);
      }),
    );
    for (const c of clients) {
      await c.hangup();
      await c.leaveMembership(roomId);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  out('done');
}

const timer = setTimeout(() => {
  out('timed out');
  process.exit(1);
}, 30_000);
main().then(
  () => {
    clearTimeout(timer);
    process.exit(0);
  },
  (e: unknown) => {
    out(`failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  },
);
