/**
 * `npm run dev -- --foci N` (N ≥ 2): one strict test homeserver serving N server names (a.example, b.example, …;
 * its `federation` option: one listener each, to-device routed between them as over federation) and one focus
 * per name, each an Sfu in this process with its own registration (`@sfu:<name>`), appservice and ops ports and
 * media port range. Every focus may auto-join rooms of every name, so one room can hold all of them.
 */
import { pino } from 'pino';
import { generateRegistration, type Registration } from '../../src/appservice/registration.js';
import { validateConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/observability/metrics.js';
import { Sfu } from '../../src/sfu.js';
import { startTestHomeserver, type TestHomeserver } from '../../harness/homeserver/index.js';
import { freePort } from '../../harness/net.js';
import { devMediaPorts, devServerNames, type DevArgs } from './devArgs.js';

export interface DevFocus {
  serverName: string;
  hsUrl: string;
  asPort: number;
  httpPort: number;
  sfu: Sfu;
}

export interface DevFoci {
  hs: TestHomeserver;
  foci: DevFocus[];
  stop(reason: string): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;

/** `base + i`, or a free port when `base` is 0. */
async function portOf(base: number, i: number): Promise<number> {
  return base === 0 ? freePort() : base + i;
}

export async function startDevFoci(args: DevArgs, logLevel: string): Promise<DevFoci> {
  const names = devServerNames(args.foci);
  const media = devMediaPorts(args.foci);
  const hsPorts = await Promise.all(names.map((_, i) => portOf(args.hsPort, i)));
  const hs = await startTestHomeserver({
    serverName: names[0]!,
    port: hsPorts[0]!,
    logger: false,
    msc4190: true,
    federation: names.slice(1).map((serverName, i) => ({ serverName, port: hsPorts[i + 1]! })),
  });
  const foci: DevFocus[] = [];
  const stop = async (reason: string): Promise<void> => {
    await Promise.allSettled(foci.map((f) => f.sfu.stop(reason)));
    await hs.close();
  };
  try {
    for (const [i, serverName] of names.entries()) {
      const asPort = await portOf(args.asPort, i);
      const httpPort = await portOf(args.httpPort, i);
      const hsUrl = hs.urlOf(serverName);
      const config = validateConfig({
        homeserver: { url: hsUrl, server_name: serverName },
        matrix: { auto_join_allow: names },
        appservice: { bind: '127.0.0.1', port: asPort },
        http: { bind: '127.0.0.1', port: httpPort },
        focus: { device_id: 'SFU' },
        media: { bind_address: '127.0.0.1', port_range: media[i]! },
        logging: { level: logLevel },
      });
      const registration: Registration = generateRegistration(config, `http://127.0.0.1:${asPort}`);
      hs.addAppservice(
        {
          ...registration,
          url: registration.url ?? '',
          namespaces: { users: registration.namespaces.users },
        },
        serverName,
      );
      const sfu = new Sfu({
        config,
        registration,
        log: pino({ level: config.logging.level }).child({ server: serverName }),
        metrics: new Metrics({ defaultMetrics: i === 0 }),
      });
      foci.push({ serverName, hsUrl, asPort, httpPort, sfu });
      await sfu.start();
    }
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!foci.every((f) => f.sfu.readiness.ready) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
  } catch (e) {
    await stop('start failed');
    throw e;
  }
  return { hs, foci, stop };
}

/** What a client developer needs, one line each; the last line says `ready.` or `NOT ready`. */
export function describeDevFoci(d: DevFoci): string[] {
  const lines = [
    `test homeserver  serving ${d.foci.length} server names as one federation (register users with m.login.dummy at their own name's URL)`,
  ];
  for (const f of d.foci) {
    lines.push(`  ${f.serverName.padEnd(10)} ${f.hsUrl}`);
  }
  for (const f of d.foci) {
    lines.push(
      `focus ${f.serverName.padEnd(10)} ${f.sfu.focus.userId} / ${f.sfu.focus.deviceId}  ` +
        `ops http://127.0.0.1:${f.httpPort}/readyz  appservice http://127.0.0.1:${f.asPort}`,
    );
  }
  const notReady = d.foci.filter((f) => !f.sfu.readiness.ready);
  lines.push(
    notReady.length === 0
      ? `ready. ${d.foci.length} foci; a member names its own server's focus in its call membership`
      : `NOT ready: ${notReady.map((f) => `${f.serverName} ${JSON.stringify(f.sfu.readiness.snapshot())}`).join('; ')}`,
  );
  return lines;
}
