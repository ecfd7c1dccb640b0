/**
 * End-to-end encryption in the web call page (`key=` in the URL fragment): alice and bob share a key, carol
 * has another. Alice and bob decode each other's video; neither decodes carol's, nor carol theirs — every frame
 * she gets fails to decrypt (counted by the page's E2EE worker) — while the SFU's forwarding counters keep
 * rising: it forwards frames it cannot read. Each page encrypted what it sent (worker counts).
 */
import t from 'tap';
import type { Page } from 'playwright-core';
import { startCallStack } from '../../../harness/callStack.js';
import { openPageAt } from '../../../harness/clientPage.js';
import { closeBrowser } from '../../../harness/peers/index.js';
import { waitFor } from '../../../harness/stack.js';

interface TileState {
  name: string;
  videoWidth: number;
  frames: number;
}
interface PageState {
  joined: boolean;
  error: string;
  status: string;
  tiles: TileState[];
}
interface Counts {
  encrypted: number;
  decrypted: number;
  failed: number;
  droppedNoKey: number;
}
interface CallPageApi {
  state(): PageState;
  e2ee(): Promise<Counts> | undefined;
}

t.teardown(() => closeBrowser());

const api = (p: Page) => ({
  state: () => p.evaluate(() => (globalThis as unknown as { callPage: CallPageApi }).callPage.state()),
  counts: () =>
    p.evaluate(
      async () => (await (globalThis as unknown as { callPage: CallPageApi }).callPage.e2ee()) ?? null,
    ),
});

async function videoOut(ops: string): Promise<number> {
  const text = await (await fetch(`${ops}/metrics`)).text();
  const m = /^sfu_rtp_packets_total\{direction="out",kind="video"\} (\d+)/m.exec(text);
  return Number(m?.[1] ?? Number.NaN);
}

t.test('same key decodes, another key decodes nothing, the SFU forwards either way', async (t) => {
  const cs = await startCallStack(t, { config: { web: { call_page: true } } });
  const ops = `http://127.0.0.1:${String(cs.config.http.port)}`;
  const keys = { alice: 'k1-shared-secret', bob: 'k1-shared-secret', carol: 'another-key' } as const;
  const pages: Record<string, Page> = {};
  for (const [u, key] of Object.entries(keys)) {
    cs.hs.createUser(u, { password: `${u}-pw` });
    pages[u] = await openPageAt(
      t,
      `${ops}/call/#hs=${encodeURIComponent(cs.hs.url)}&user=${u}&password=${u}-pw` +
        `&room=${encodeURIComponent(cs.roomId)}&key=${key}`,
    );
  }
  const [alice, bob, carol] = [api(pages['alice']!), api(pages['bob']!), api(pages['carol']!)];
  const tile = (s: PageState, name: string) => s.tiles.find((x) => x.name === name);

  let last: PageState | undefined;
  await waitFor(
    async () => {
      last = await alice.state();
      const b = tile(last, 'bob');
      return b !== undefined && b.videoWidth > 0 && b.frames > 30 && tile(last, 'carol') !== undefined;
    },
    60_000,
    `alice decodes bob (last ${JSON.stringify(last)})`,
  );
  t.match(last!.status, /end-to-end encrypted/, 'the page says so');
  await waitFor(
    async () => {
      const a = tile(await bob.state(), 'alice');
      return a !== undefined && a.videoWidth > 0 && a.frames > 30;
    },
    60_000,
    'bob decodes alice',
  );
  t.pass('alice and bob, with the same key, decode each other');

  const out0 = await videoOut(ops);
  const failed0 = (await carol.counts())?.failed ?? 0;
  await new Promise((r) => setTimeout(r, 4000));
  const out1 = await videoOut(ops);
  t.ok(out1 > out0 + 100, `the SFU kept forwarding video (${String(out0)} → ${String(out1)} packets)`);
  const carolState = await carol.state();
  for (const name of ['alice', 'bob']) {
    const x = tile(carolState, name);
    t.ok(x !== undefined, `carol has ${name}'s tile`);
    t.equal(x?.frames ?? 0, 0, `carol decodes no frame of ${name}`);
    t.equal(x?.videoWidth ?? 0, 0, `carol's ${name} tile has no picture`);
  }
  const carolCounts = (await carol.counts())!;
  t.ok(
    carolCounts.failed > failed0 + 50,
    `carol's frames fail to decrypt (${String(failed0)} → ${String(carolCounts.failed)})`,
  );
  t.equal(carolCounts.decrypted, 0, 'carol decrypts nothing');
  for (const name of ['alice', 'bob'] as const) {
    const s = await api(pages[name]!).state();
    t.equal(tile(s, 'carol')?.frames ?? 0, 0, `${name} decodes no frame of carol`);
    const c = (await api(pages[name]!).counts())!;
    t.ok(c.encrypted > 100 && c.decrypted > 100, `${name} encrypts and decrypts (${JSON.stringify(c)})`);
  }
  t.ok(carolCounts.encrypted > 100, 'carol encrypts too');
});
