/**
 * `npm run dev:call`: against a running `npm run dev`, two users (alice, bob) join one call through the
 * SFU with werift peers and print "connected" for each. Alice publishes synthetic media (Opus-sized audio and
 * 640×360 VP8, 30 fps), bob audio; each subscribes to the other over the data channel (dialect A), and after
 * 4 s each prints what it received through the SFU (packets per kind, and the video frame size). Then they
 * hang up. Exits 0 on success, 1 otherwise (45 s limit). DEV_HS_URL (default http://127.0.0.1:8008) points at
 * the dev homeserver.
 */
import { randomBytes } from 'node:crypto';
import { CallClient, dc } from '../../client/index.js';
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
    // As Element creates rooms: every member may write call memberships (else state_default 50 applies).
    power_level_content_override: { events: { 'org.matrix.msc3401.call.member': 0 } },
  });
  const roomId = String(room['room_id']);
  await api('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, bob.accessToken, {});
  await api('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/invite`, alice.accessToken, {
    user_id: focus.user_id,
  });
  out(`room ${roomId}: alice ${alice.userId}, bob ${bob.userId}, focus ${focus.user_id}/${focus.device_id}`);

  const confId = `dev-${Date.now()}`;
  const users = [
    { name: 'alice', creds: alice, media: { audio: true, video: true } },
    { name: 'bob', creds: bob, media: { audio: true } },
  ];
  const clients = users.map(
    (u) =>
      new CallClient({
        hsUrl,
        userId: u.creds.userId,
        accessToken: u.creds.accessToken,
        deviceId: u.creds.deviceId,
        peer: new WeriftPeer(),
      }),
  );
  const sessions = clients.map((c) => new dc.DcSession(c.peer));
  const received = clients.map(() => ({ audio: 0, video: 0, width: 0, height: 0 }));
  try {
    await Promise.all(
      clients.map(async (c, i) => {
        const u = users[i]!;
        c.peer.onRtp((r) => {
          const got = received[i]!;
          if (r.kind === 'audio') {
            got.audio++;
          } else {
            got.video++;
            // A VP8 keyframe (descriptor X=1, I=1 with a 15-bit picture id: 4 bytes) carries its size.
            const p = r.payload;
            if (p.length > 14 && (p[4]! & 0x01) === 0 && p[7] === 0x9d && p[8] === 0x01 && p[9] === 0x2a) {
              got.width = p.readUInt16LE(10) & 0x3fff;
              got.height = p.readUInt16LE(12) & 0x3fff;
            }
          }
        });
        await c.publishMembership(roomId, focus);
        await c.invite({ focus, confId, roomId, offerOpts: { dataChannel: true, ...u.media } });
        await c.waitForAnswer(20_000);
        await c.peer.waitConnected(20_000);
        await c.peer.waitDataChannelOpen(20_000);
        out(`${u.name} connected`);
        if (u.media.video === true) {
          c.peer.startSyntheticVideo({
            fps: 30,
            packetsPerFrame: 2,
            payloadBytes: 900,
            keyframeIntervalMs: 2000,
            width: 640,
            height: 360,
          });
        }
      }),
    );
    // Each subscribes to everything the other publishes, at 640×360, once the focus's metadata shows it.
    await Promise.all(
      sessions.map(async (s, i) => {
        const other = clients[1 - i]!.userId;
        const need = i === 0 ? 1 : 2; // alice wants bob's audio; bob wants alice's audio and video
        const deadline = Date.now() + 15_000;
        let wants: dc.TrackWant[] = [];
        while (Date.now() < deadline) {
          wants = Object.entries(s.metadata)
            .filter(([, m]) => m.user_id === other)
            .flatMap(([streamId, m]) =>
              Object.entries(m.tracks ?? {}).map(([trackId, t]) => ({
                stream_id: streamId,
                track_id: trackId,
                ...(t.kind === 'video' ? { width: 640, height: 360 } : {}),
              })),
            );
          if (wants.length >= need) {
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        if (wants.length === 0) {
          throw new Error(`${users[i]!.name} saw no stream of ${users[1 - i]!.name} in the metadata`);
        }
        s.send(dc.subscribeFrame('A', wants, `sub-${String(i)}`), 'A');
      }),
    );
    await new Promise((r) => setTimeout(r, 4000));
    for (const [i, u] of users.entries()) {
      const got = received[i]!;
      const size = got.width > 0 ? ` (${String(got.width)}×${String(got.height)})` : '';
      out(
        `${u.name} received from ${users[1 - i]!.name}: ${String(got.audio)} audio, ${String(got.video)} video packets${size}`,
      );
    }
    if (received[0]!.audio === 0 || received[1]!.audio === 0 || received[1]!.video === 0) {
      throw new Error('media did not flow both ways through the SFU');
    }
    for (const c of clients) {
      await c.hangup();
      await c.leaveMembership(roomId);
    }
  } finally {
    for (const s of sessions) {
      s.close();
    }
    await Promise.all(clients.map((c) => c.close()));
  }
  out('done');
}

const timer = setTimeout(() => {
  out('timed out');
  process.exit(1);
}, 45_000);
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
