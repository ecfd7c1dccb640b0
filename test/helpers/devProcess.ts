/** `npm run dev -- <args>` as a person runs it, in its own process group (for the dev tests). */
import { spawn } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

/** Runs `npm run dev -- <args>`; `out()` is stdout + stderr so far; `kill` signals the whole group. */
export function startDev(args: string[], env: NodeJS.ProcessEnv) {
  const dev = spawn('npm', ['run', 'dev', '--', ...args], {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  dev.stdout.on('data', (d: Buffer) => (text += d.toString()));
  dev.stderr.on('data', (d: Buffer) => (text += d.toString()));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-dev.pid!, signal);
    } catch {
      // already gone
    }
  };
  return { dev, out: () => text, kill };
}
