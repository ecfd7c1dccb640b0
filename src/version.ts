/** The package version, read from the nearest package.json above this file (works from src/ and dist/src/). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageJson(): { name: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      return JSON.parse(readFileSync(p, 'utf8')) as { name: string; version: string };
    }
    dir = dirname(dir);
  }
  return { name: 'matrix-sfu', version: '0.0.0' };
}

const pkg = findPackageJson();
export const VERSION: string = pkg.version;
export const NAME: string = pkg.name;
