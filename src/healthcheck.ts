/**
 * `matrix-sfu --healthcheck -c FILE`: asks the running SFU's operations listener (http.bind:http.port of that
 * config) for /healthz and exits 0 when it answers 200 — what a container HEALTHCHECK or a supervisor runs, so the
 * probe follows the configured port instead of a hard-wired one.
 */
import type { Config } from './config/types.js';

/** The /healthz URL of a config's operations listener (a wildcard bind is asked on loopback). */
export function healthUrl(config: { readonly http: Pick<Config['http'], 'bind' | 'port'> }): string {
  const bind = config.http.bind;
  const host =
    bind === '0.0.0.0' || bind === ''
      ? '127.0.0.1'
      : bind === '::'
        ? '[::1]'
        : bind.includes(':') && !bind.startsWith('[')
          ? `[${bind}]`
          : bind;
  return `http://${host}:${config.http.port}/healthz`;
}

/** One GET of `url` within `timeoutMs`: healthy only on 200; otherwise why not, in one line. */
export async function probeHealth(
  url: string,
  timeoutMs: number,
): Promise<{ healthy: boolean; detail: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer().catch(() => undefined);
    return res.status === 200
      ? { healthy: true, detail: `${url}: 200` }
      : { healthy: false, detail: `${url}: answered ${res.status}` };
  } catch (e) {
    const cause =
      e instanceof Error ? ((e.cause as { code?: string } | undefined)?.code ?? e.name) : String(e);
    return { healthy: false, detail: `${url}: no answer (${cause})` };
  }
}
