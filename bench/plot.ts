/** `node --import @tapjs/typescript/import bench/plot.ts <fanout or meeting result.json>`: writes the SVG beside it. */
import { readFileSync, writeFileSync } from 'node:fs';
import { plotFor } from './lib/plot.js';

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write('usage: bench/plot.ts <bench/results/<fanout|meeting>-….json>\n');
  process.exitCode = 64;
} else {
  const svg = await plotFor(JSON.parse(readFileSync(file, 'utf8')));
  if (svg === undefined) {
    process.stderr.write('nothing to plot\n');
    process.exitCode = 1;
  } else {
    writeFileSync(file.replace(/\.json$/, '.svg'), svg);
    process.stderr.write(`wrote ${file.replace(/\.json$/, '.svg')}\n`);
  }
}
