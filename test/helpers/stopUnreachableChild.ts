/**
 * Child process of test/integration/signalling/stopUnreachable.test.ts: a test SFU (its homeserver unreachable)
 * takes the first REPLAYED inputs of the transactions fuzz (invites whose replies cannot be delivered among them),
 * then stops. Prints `stopped` when stop() resolved; nothing else holds the event loop, as in a real process after
 * SIGTERM.
 */
import { asApp, buildTestSfu } from '../../harness/sfu.js';
import { rng } from './fuzz.js';
import { TRANSACTION_FUZZ_SEED, putTransaction } from './transactionFuzz.js';

/** The smallest prefix of the fuzz run whose stop hung before the fix was 10 inputs. */
const REPLAYED = 12;

const sfu = buildTestSfu(); // its homeserver is http://127.0.0.1:1: every send fails and is retried
const app = asApp(sfu);
const r = rng(TRANSACTION_FUZZ_SEED);
const statuses: number[] = [];
for (let i = 0; i < REPLAYED; i++) {
  const res = await putTransaction(app, r, i);
  statuses.push(res.statusCode);
}
process.stdout.write(`answered ${statuses.join(' ')}\n`);
await sfu.stop('test');
process.stdout.write('stopped\n');
