/**
 * `npm run dev`: the SFU together with the strict test homeserver, for a newcomer with no homeserver.
 * Everything listens on 127.0.0.1. Ports come from the environment (DEV_HS_PORT, DEV_AS_PORT, DEV_HTTP_PORT)
 * with defaults 8008, 9000, 8080 (0 = any free port). Stops on Ctrl-C / SIGTERM.
 *
 * `npm run dev -- --foci N` (2–5): the homeserver serves N server names (a.example, b.example, …) with one focus
 * each, for trying cascading (devFoci.ts); focus i uses the base ports + i.
 */
import { pino } from 'pino';
import { generateRegistration } from '../../src/appservice/registration.js';
import { validateConfig } from '../../src/config/load.js';
import { Sfu } from '../../src/sfu.js';
import { startTestHomeserver } from '../../harness/homeserver/index.js';
import { freePort } from '../../harness/net.js';
import { DevArgsError, parseDevArgs, portTakenMessage, type DevArgs } from './devArgs.js';
import { describeDevFoci, startDevFoci } from './devFoci.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const logLevel = process.env['DEV_LOG_LEVEL'] ?? 'warn';

/** Ctrl-C / SIGTERM run `stop` once, print `stopped` and exit 0. */
function stopOnSignals(stop: (signal: string) => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) {
      return;
    }
    stopping = true;
    void stop(signal).finally(() => {
      out('stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => {
    onSignal('SIGINT');
  });
  process.on('SIGTERM', () => {
    onSignal('SIGTERM');
  });
}

/** Users `npm run dev` creates (password `<name>-dev`), one call page URL each. */
const DEV_USERS = ['alice', 'bob', 'carol'] as const;

async function startOne(args: DevArgs): Promise<void> {
  const serverName = process.env['DEV_SERVER_NAME'] ?? 'localhost';
  const hsPort = args.hsPort === 0 ? await freePort() : args.hsPort;
  const asPort = args.asPort === 0 ? await freePort() : args.asPort;
  const httpPort = args.httpPort === 0 ? await freePort() : args.httpPort;
  const hs = await startTestHomeserver({ serverName, port: hsPort, logger: false, msc4190: true });
  const config = validateConfig({
    homeserver: { url: hs.url, server_name: serverName },
    appservice: { bind: '127.0.0.1', port: asPort },
    http: { bind: '127.0.0.1', port: httpPort },
    focus: { device_id: 'SFU' },
    media: { bind_address: '127.0.0.1', port_range: { min: 40000, max: 49999 } },
    web: { call_page: true },
    logging: { level: logLevel },
  });
  const registration = generateRegistration(config, `http://127.0.0.1:${asPort}`);
  hs.addAppservice({
    ...registration,
    url: registration.url ?? '',
    namespaces: { users: registration.namespaces.users },
  });
  const sfu = new Sfu({ config, registration, log: pino({ level: config.logging.level }) });
  stopOnSignals((signal) => sfu.stop(signal).then(() => hs.close()));
  await sfu.start();
  const deadline = Date.now() + 15_000;
  while (!sfu.readiness.ready && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  out(`test homeserver  ${hs.url}  (server name ${serverName}; register users with m.login.dummy)`);
  out(`SFU appservice   http://127.0.0.1:${asPort}  (the homeserver pushes transactions here)`);
  out(`SFU operations   http://127.0.0.1:${httpPort}/status  /readyz  /metrics`);
  out(`focus            ${sfu.focus.userId} / ${sfu.focus.deviceId}`);
  // Dev users with passwords and a room everyone may join, so two browser tabs make a call.
  const focusRef = { user_id: sfu.focus.userId, device_id: sfu.focus.deviceId };
  hs.setRtcFoci([{ type: 'org.matrix.msc3898', ...focusRef }]);
  const owner = hs.createUser('devowner').userId;
  const roomId = hs.createRoom(owner, { preset: 'public_chat', room_alias_name: 'call' });
  hs.invite(owner, sfu.focus.userId, roomId);
  hs.join(sfu.focus.userId, roomId);
  for (const user of DEV_USERS) {
    hs.createUser(user, { password: `${user}-dev` });
    out(
      `call page        http://127.0.0.1:${httpPort}/call/#hs=${encodeURIComponent(hs.url)}` +
        `&user=${user}&password=${user}-dev&room=${encodeURIComponent(roomId)}`,
    );
  }
  out(
    sfu.readiness.ready
      ? 'ready. Try: npm run dev:call'
      : `NOT ready: ${JSON.stringify(sfu.readiness.snapshot())}`,
  );
}

async function startMany(args: DevArgs): Promise<void> {
  const dev = await startDevFoci(args, logLevel);
  stopOnSignals((signal) => dev.stop(signal));
  for (const line of describeDevFoci(dev)) {
    out(line);
  }
}

let args: DevArgs;
try {
  args = parseDevArgs(process.argv.slice(2), process.env);
} catch (e) {
  if (e instanceof DevArgsError) {
    process.stderr.write(`npm run dev: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}
try {
  await (args.foci === 1 ? startOne(args) : startMany(args));
} catch (e) {
  const taken = portTakenMessage(e, args);
  if (taken === undefined) {
    throw e;
  }
  process.stderr.write(`npm run dev: ${taken}\n`);
  process.exit(2);
}
