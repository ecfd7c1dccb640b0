#!/usr/bin/env node
/**
 * Entry point: parses the command line, then generates a registration, checks the configuration, or runs
 * the SFU until SIGTERM/SIGINT (graceful stop, exit 0 within 5 s).
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateRegistration, loadRegistrationFile, pushesToDevice } from './appservice/registration.js';
import { EX_USAGE, HELP, parseCommand } from './cli.js';
import { EX_CONFIG, loadConfigFile } from './config/load.js';
import type { Config } from './config/types.js';
import { createLogger } from './observability/logger.js';
import { healthUrl, probeHealth } from './healthcheck.js';
import { FOCUS_NODE_FLAGS, missingNodeFlags } from './nodeFlags.js';
import { Sfu } from './sfu.js';
import { ConfigError, toError } from './util/errors.js';
import { VERSION } from './version.js';

const SHUTDOWN_DEADLINE_MS = 4500;

/** A push-transport config whose registration does not ask the homeserver to push to-device messages. */
const NO_PUSH = (regPath: string) =>
  `registration ${regPath}: to_device.transport is push but the registration sets neither receive_ephemeral nor de.sorunome.msc2409.push_ephemeral, so the homeserver will not push call signalling to the SFU: add "receive_ephemeral: true" and "de.sorunome.msc2409.push_ephemeral: true" (or regenerate it with -r), then restart the homeserver`;
/** --healthcheck: how long /healthz may take (a container HEALTHCHECK's own timeout is 5 s). */
const HEALTHCHECK_TIMEOUT_MS = 3000;

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}
function err(s: string): void {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
}

function registrationPathFor(configPath: string, config: Config, explicit: string | undefined): string {
  return explicit ?? resolve(dirname(configPath), config.appservice.registration);
}

function withConfigErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) {
      for (const p of e.problems) {
        err(p);
      }
      process.exit(EX_CONFIG);
    }
    throw e;
  }
}

async function run(configPath: string, registrationFile: string | undefined): Promise<void> {
  const config = withConfigErrors(() => loadConfigFile(configPath));
  const regPath = registrationPathFor(configPath, config, registrationFile);
  const registration = withConfigErrors(() => loadRegistrationFile(regPath, config));
  const log = createLogger(config.logging.level);
  const missing = missingNodeFlags(process.execArgv);
  if (missing.length > 0) {
    log.warn(
      { flags: missing },
      `started without the Node flags ${missing.join(' ')} (npm start and the Docker image pass them): expect a full garbage collection every few seconds under load, and more when the load drops — run node ${FOCUS_NODE_FLAGS.join(' ')} dist/src/main.js …`,
    );
  }
  if (config.to_device.transport === 'push' && !pushesToDevice(registration)) {
    log.warn({ registration: regPath }, NO_PUSH(regPath));
  }
  const sfu = new Sfu({ config, registration, log });
  sfu.on('fatal', (e) => {
    if (e instanceof ConfigError) {
      for (const p of e.problems) {
        err(p);
      }
    }
    void sfu.stop('fatal configuration problem').finally(() => {
      log.flush();
      process.exit(EX_CONFIG);
    });
  });

  let exiting = false;
  const shutdown = (signal: string) => {
    if (exiting) {
      return;
    }
    exiting = true;
    const deadline = setTimeout(() => {
      log.error({ signal }, 'shutdown did not finish in time; exiting');
      log.flush();
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    sfu
      .stop(signal)
      .then(() => {
        log.flush();
        process.exit(0);
      })
      .catch((e: unknown) => {
        log.error({ err: toError(e) }, 'shutdown failed');
        log.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => {
    shutdown('SIGTERM');
  });
  process.on('SIGINT', () => {
    shutdown('SIGINT');
  });
  process.on('unhandledRejection', (reason) => {
    log.error({ err: toError(reason) }, 'unhandled promise rejection');
  });

  try {
    await sfu.start();
  } catch (e) {
    log.fatal({ err: toError(e) }, 'start-up failed');
    await sfu.stop('start-up failed').catch(() => undefined);
    log.flush();
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const cmd = parseCommand(process.argv.slice(2));
  switch (cmd.kind) {
    case 'help':
      out(HELP);
      return;
    case 'version':
      out(VERSION);
      return;
    case 'usage-error':
      err(`matrix-sfu: ${cmd.message}`);
      err('Try --help.');
      process.exit(EX_USAGE);
      return;
    case 'generate-registration': {
      const config = withConfigErrors(() => loadConfigFile(cmd.configPath));
      const reg = generateRegistration(config, cmd.url);
      writeFileSync(cmd.file, stringify(reg), { mode: 0o600 });
      out(
        `wrote ${cmd.file} (id ${reg.id}, focus user @${reg.sender_localpart}:${config.homeserver.server_name})`,
      );
      return;
    }
    case 'check-config': {
      const config = withConfigErrors(() => loadConfigFile(cmd.configPath));
      const regPath = registrationPathFor(cmd.configPath, config, cmd.registrationPath);
      const reg = withConfigErrors(() => loadRegistrationFile(regPath, config));
      if (config.to_device.transport === 'push' && !pushesToDevice(reg)) {
        withConfigErrors(() => {
          throw new ConfigError([NO_PUSH(regPath)]);
        });
      }
      out(`${cmd.configPath} and ${regPath} are valid`);
      return;
    }
    case 'healthcheck': {
      const config = withConfigErrors(() => loadConfigFile(cmd.configPath));
      const r = await probeHealth(healthUrl(config), HEALTHCHECK_TIMEOUT_MS);
      (r.healthy ? out : err)(r.healthy ? `healthy: ${r.detail}` : `unhealthy: ${r.detail}`);
      process.exit(r.healthy ? 0 : 1);
      return;
    }
    case 'run':
      await run(cmd.configPath, cmd.registrationPath);
      return;
  }
}

main().catch((e: unknown) => {
  err(`matrix-sfu: ${toError(e).stack ?? String(e)}`);
  process.exit(1);
});
