/**
 * The command line and environment of `npm run dev`: `--foci N` (1–5, default 1) and the base ports
 * DEV_HS_PORT, DEV_AS_PORT, DEV_HTTP_PORT (defaults 8008, 9000, 8080; focus i of N uses base + i; 0 = any free
 * port, printed at start). Bad input throws DevArgsError with a message fit for the terminal.
 */
export class DevArgsError extends Error {
  override readonly name = 'DevArgsError';
}

export const MAX_FOCI = 5;

export interface DevArgs {
  foci: number;
  hsPort: number;
  asPort: number;
  httpPort: number;
}

const USAGE = `usage: npm run dev [-- --foci N]   (N = 1..${MAX_FOCI}, default 1)`;

function port(env: Record<string, string | undefined>, name: string, def: number, foci: number): number {
  const raw = env[name];
  const v = raw === undefined || raw === '' ? def : Number(raw);
  // Ports base..base+foci-1 must all be valid.
  if (!Number.isInteger(v) || v < 0 || (v > 0 && v + foci - 1 > 65535)) {
    throw new DevArgsError(`${name} must be a port number (0 = any free port), got ${JSON.stringify(raw)}`);
  }
  return v;
}

export function parseDevArgs(argv: readonly string[], env: Record<string, string | undefined>): DevArgs {
  let foci = 1;
  let seen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg === '--foci') {
      value = argv[++i];
    } else if (arg.startsWith('--foci=')) {
      value = arg.slice('--foci='.length);
    } else {
      throw new DevArgsError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    }
    if (seen) {
      throw new DevArgsError(`--foci given twice\n${USAGE}`);
    }
    seen = true;
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_FOCI) {
      throw new DevArgsError(
        `--foci needs a whole number from 1 to ${MAX_FOCI}, got ${JSON.stringify(value ?? '')}\n${USAGE}`,
      );
    }
    foci = Number(value);
  }
  return {
    foci,
    hsPort: port(env, 'DEV_HS_PORT', 8008, foci),
    asPort: port(env, 'DEV_AS_PORT', 9000, foci),
    httpPort: port(env, 'DEV_HTTP_PORT', 8080, foci),
  };
}

/** The server names of `n` foci: a.example, b.example, … */
export function devServerNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${String.fromCharCode(97 + i)}.example`);
}

/** 40000–49999 split into `n` disjoint media port ranges. */
export function devMediaPorts(n: number): { min: number; max: number }[] {
  const size = Math.floor(10_000 / n);
  return Array.from({ length: n }, (_, i) => ({ min: 40_000 + i * size, max: 40_000 + (i + 1) * size - 1 }));
}

/** The variable that sets the port `port` of `args` (focus i of N uses base + i), if any. */
function variableFor(args: DevArgs, port: number): string | undefined {
  const bases: [string, number][] = [
    ['DEV_HS_PORT', args.hsPort],
    ['DEV_AS_PORT', args.asPort],
    ['DEV_HTTP_PORT', args.httpPort],
  ];
  return bases.find(([, base]) => base > 0 && port >= base && port < base + args.foci)?.[0];
}

/**
 * For a listen error: when it is EADDRINUSE, what to tell the person (which port, which variable moves it);
 * undefined for any other error.
 */
export function portTakenMessage(err: unknown, args: DevArgs): string | undefined {
  const e = err as { code?: unknown; port?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.code !== 'EADDRINUSE') {
    return undefined;
  }
  const port =
    typeof e.port === 'number'
      ? e.port
      : Number(/:(\d+)\s*$/.exec(typeof e.message === 'string' ? e.message : '')?.[1] ?? NaN);
  const which = Number.isInteger(port) ? variableFor(args, port) : undefined;
  const what = Number.isInteger(port) ? `port ${port} is already in use` : 'a port is already in use';
  return which === undefined
    ? `${what}: stop what listens there, or move the dev ports with DEV_HS_PORT, DEV_AS_PORT, DEV_HTTP_PORT (0 = any free port)`
    : `${what}: stop what listens there, or move it with ${which}=<port> (0 = any free port), e.g. ${which}=0 npm run dev`;
}
