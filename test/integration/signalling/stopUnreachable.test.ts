/**
 * Stop while to-device replies wait for a homeserver that cannot be reached: the SFU's stop still completes
 * (its to-device sender gives up after its bounded drain). Before, once the HTTP servers had closed nothing but
 * the SFU's unref'd timers held the event loop, so node exited in the middle of stop (media never closed) — or,
 * in a test, the promise never settled (found by the transactions fuzz). Run in a child process, where nothing
 * else holds the loop, as in a real process after SIGTERM.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const CHILD = fileURLToPath(new URL('../../helpers/stopUnreachableChild.ts', import.meta.url));

t.test('stop completes while replies to invites wait for an unreachable homeserver', async (t) => {
  const out = await new Promise<string>((resolve) => {
    execFile(
      process.execPath,
      ['--import', '@tapjs/typescript/import', CHILD],
      { timeout: 60_000 },
      (_err, stdout, stderr) => {
        resolve(`${stdout}${stderr === '' ? '' : `\n--- stderr ---\n${stderr}`}`);
      },
    );
  });
  t.match(out, /^answered( \d+)+$/m, 'the transactions were answered');
  t.match(out, /^stopped$/m, `stop() resolved before the process ended:\n${out}`);
});
