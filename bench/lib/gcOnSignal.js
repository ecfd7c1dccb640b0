// Bench only (`cascade-cpu`): loaded into a focus with `--expose-gc --import <this file>`, a full garbage
// collection on SIGUSR2 — the bench asks for one before each measurement window, so the garbage the previous
// arrangement left is not collected (and charged) inside the next window. Plain JavaScript: a focus may run
// from dist/ without the TypeScript loader.
import process from 'node:process';
process.on('SIGUSR2', () => {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
  }
});
