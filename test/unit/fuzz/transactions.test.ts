/**
 * Fuzz (issue 17): appservice transactions as a homeserver (or anyone holding the URL) could push them — edited
 * valid transactions (membership state in all formats, to-device call events with an SDP offer, ephemeral
 * events), edited JSON text, random transaction ids and tokens — through the SFU's real HTTP routes (Fastify
 * `inject`, the whole appservice stack behind them). Each answer: below 500, JSON, and a refusal (4xx) carries a
 * Matrix errcode; no unhandled rejection (tap fails the file on one); afterwards the SFU still answers a valid
 * transaction. Seeded; `FUZZ_INPUTS` inputs.
 */
import t from 'tap';
import { asApp, buildTestSfu, HS_TOKEN } from '../../../harness/sfu.js';
import { fuzzInputs, rng } from '../../helpers/fuzz.js';
import { TRANSACTION_FUZZ_SEED, putTransaction } from '../../helpers/transactionFuzz.js';

const N = fuzzInputs();

t.test(`appservice transactions: ${N} inputs, every answer < 500 and every refusal an errcode`, async (t) => {
  const sfu = buildTestSfu();
  const app = asApp(sfu);
  t.teardown(() => sfu.stop('test'));
  const r = rng(TRANSACTION_FUZZ_SEED);
  const statuses = new Map<number, number>();
  for (let i = 0; i < N; i++) {
    const res = await putTransaction(app, r, i);
    statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
    if (res.statusCode >= 500) {
      t.fail(`input ${i}: ${res.statusCode} ${res.body.slice(0, 200)}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      t.fail(`input ${i}: ${res.statusCode} with a body that is not JSON: ${res.body.slice(0, 200)}`);
      continue;
    }
    if (res.statusCode >= 400) {
      const errcode = (parsed as { errcode?: unknown } | null)?.errcode;
      if (typeof errcode !== 'string' || !/^M_[A-Z_]+$/.test(errcode)) {
        t.fail(`input ${i}: ${res.statusCode} without a Matrix errcode: ${res.body.slice(0, 200)}`);
      }
    }
  }
  const summary = [...statuses]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${s}×${n}`)
    .join(', ');
  t.ok((statuses.get(200) ?? 0) > 0 && [...statuses.keys()].some((s) => s >= 400), `answers: ${summary}`);
  const after = await app.inject({
    method: 'PUT',
    url: '/_matrix/app/v1/transactions/after-fuzz',
    headers: { authorization: `Bearer ${HS_TOKEN}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ events: [] }),
  });
  t.equal(after.statusCode, 200, 'a valid transaction is still answered afterwards');
});
