// Bench only (`cascade-cpu`): loaded into a focus with `--expose-gc --import <this file>`, a full garbage
// collection on SIGUSR2 — the bench asks for one before each measurement window, so the garbage the previous
// arrangement left is not collected (and charged) inside the next window. Plain JavaScript: a focus may run
// from dist/ without the TypeScript loader.
import process from 'node:process';
// BENCH_GC_MARK=1: a line `GCMARK <ms since the epoch>` on stdout before each, to place V8's --trace-opt /
// --trace-deopt lines (on stdout too) in their window (SFU_TEST_LOG_DIR keeps each focus's output).
const mark = process.env.BENCH_GC_MARK === '1';
// BENCH_FORCED_GC=0: no collection (what the windows look like without it: V8 throws optimized code away at
// a full GC, and its recompiles then run on the helper threads inside the next window).
const collect = process.env.BENCH_FORCED_GC !== '0';
process.on('SIGUSR2', () => {
  if (mark) {
    process.stdout.write(`GCMARK ${Date.now()}\n`);
  }
  if (collect && typeof globalThis.gc === 'function') {
    globalThis.gc();
  }
});
