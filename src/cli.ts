/** Command-line parsing for main.ts: a pure function from argv to a command, so it is testable. */
import { parseArgs } from 'node:util';

export const EX_USAGE = 64;

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'generate-registration'; configPath: string; url: string; file: string }
  | { kind: 'check-config'; configPath: string; registrationPath: string | undefined }
  | { kind: 'healthcheck'; configPath: string }
  | { kind: 'run'; configPath: string; registrationPath: string | undefined }
  | { kind: 'usage-error'; message: string };

export const HELP = `Usage: matrix-sfu [options]

A Matrix-native SFU (MSC3401/MSC3898) that runs beside a homeserver as an application service.

Run:
  -c, --config FILE            configuration file (YAML); see config.example.yaml
  -f, --file FILE              registration file (default: appservice.registration from the config,
                               relative to the config file's folder)
      --check-config           validate the config and registration files, then exit
      --healthcheck            ask the running SFU of this config for /healthz (http.bind:http.port);
                               exit 0 if healthy, 1 if not (for container HEALTHCHECKs)

Generate a registration (random tokens) for the homeserver:
  -r, --generate-registration  write a registration file and exit
  -u, --url URL                URL where the homeserver reaches this appservice, e.g. http://sfu:9000
  -c, --config FILE            used for sender_localpart, id and server_name
  -f, --file FILE              output file (default: registration.yaml)

  -h, --help                   show this help
  -v, --version                print the version

Exit status: 0 ok, 64 bad command line, 78 bad configuration, 1 runtime failure.
`;

export function parseCommand(argv: readonly string[]): Command {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        file: { type: 'string', short: 'f' },
        url: { type: 'string', short: 'u' },
        'generate-registration': { type: 'boolean', short: 'r' },
        'check-config': { type: 'boolean' },
        healthcheck: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (e) {
    return { kind: 'usage-error', message: e instanceof Error ? e.message : String(e) };
  }
  if (values.help === true) {
    return { kind: 'help' };
  }
  if (values.version === true) {
    return { kind: 'version' };
  }
  if (values['generate-registration'] === true) {
    if (values.url === undefined) {
      return { kind: 'usage-error', message: '-r needs -u URL (where the homeserver reaches the SFU)' };
    }
    if (values.config === undefined) {
      return { kind: 'usage-error', message: '-r needs -c FILE (for sender_localpart and server_name)' };
    }
    return {
      kind: 'generate-registration',
      configPath: values.config,
      url: values.url,
      file: values.file ?? 'registration.yaml',
    };
  }
  if (values.url !== undefined) {
    return { kind: 'usage-error', message: '-u is only used with -r' };
  }
  if (values.config === undefined) {
    return { kind: 'usage-error', message: 'missing -c FILE (see --help)' };
  }
  if (values.healthcheck === true) {
    if (values['check-config'] === true || values.file !== undefined) {
      return { kind: 'usage-error', message: '--healthcheck takes only -c FILE' };
    }
    return { kind: 'healthcheck', configPath: values.config };
  }
  return {
    kind: values['check-config'] === true ? 'check-config' : 'run',
    configPath: values.config,
    registrationPath: values.file,
  };
}
