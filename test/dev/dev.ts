/**
 * `npm run dev`: the SFU together with the strict test homeserver, for a newcomer with no homeserver.
 * Everything listens on 127.0.0.1. Ports come from the environment (DEV_HS_PORT, DEV_AS_PORT, DEV_HTTP_PORT)
 * with defaults 8008, 9000, 8080. Stops on Ctrl-C / SIGTERM.
 */
import { pino } from 'pino';
import { generateRegistration } from '../../src/appservice/registration.js';
import { validateConfig } from '../../src/config/load.js';
import { Sfu } from '../../src/sfu.js';
import { startTestHomeserver } from '../../harness/homeserver/index.js';

const env = (name: string, def: number): number => {
  const v = Number(process.env[name] ?? def);
  if (!Number.isInteger(v) || v < 1 || v > 65535) {
    throw new Error(`${name} must be a port number`);
  }
  return v;
};
const hsPort = env('DEV_HS_PORT', 8008);
const asPort = env('DEV_AS_PORT', 9000);
const httpPort = env('DEV_HTTP_PORT', 8080);
const serverName = process.env['DEV_SERVER_NAME'] ?? 'localhost';

const hs = await startTestHomeserver({ serverName, port: hsPort, logger: false, msc4190: true });
const config = validateConfig({
  homeserver: { url: hs.url, server_name: serverName },
  appservice: { bind: '127.0.0.1', port: asPort },
  http: { bind: '127.0.0.1', port: httpPort },
  focus: { device_id: 'SFU' },
  media: { bind_address: '127.0.0.1', port_range: { min: 40000, max: 49999 } },
  logging: { level: (process.env['DEV_LOG_LEVEL'] as 'info' | undefined) ?? 'warn' },
});
const registration = generateRegistration(config, `http://127.0.0.1:${asPort}`);
hs.addAppservice({
  ...registration,
  url: registration.url ?? '',
  namespaces: { users: registration.namespaces.users },
});
const sfu = new Sfu({ config, registration, log: pino({ level: config.logging.level }) });
await sfu.start();
const deadline = Date.now() + 15_000;
while (!sfu.readiness.ready && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`test homeserver  ${hs.url}  (server name ${serverName}; register users with m.login.dummy)`);
out(`SFU appservice   http://127.0.0.1:${asPort}  (the homeserver pushes transactions here)`);
out(`SFU operations   http://127.0.0.1:${httpPort}/status  /readyz  /metrics`);
out(`focus            ${sfu.focus.userId} / ${sfu.focus.deviceId}`);
out(
  sfu.readiness.ready
    ? 'ready. Try: npm run dev:call'
    : `NOT ready: ${JSON.stringify(sfu.readiness.snapshot())}`,
);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) {
    return;
  }
  stopping = true;
  void sfu
    .stop(signal)
    .then(() => hs.close())
    .finally(() => {
      out('stopped');
      process.exit(0);
    });
};
process.on('SIGINT', () => {
  stop('SIGINT');
});
process.on('SIGTERM', () => {
  stop('SIGTERM');
});
