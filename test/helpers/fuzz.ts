/**
 * Seeded random mutation for the fuzz suites (test/unit/fuzz/): JSON values (replace, delete, add or
 * duplicate nodes; junk of every JSON type, deep nesting, long strings), text (SDP lines and characters) and
 * bytes (bit flips, boundary values, truncation, extension). Everything is reproducible from the seed each test
 * fixes. `FUZZ_INPUTS` sets the inputs per fuzz test (default 4,000: the six tests of test/unit/fuzz run 24,000
 * in CI; `FUZZ_INPUTS=20000 npx tap test/unit/fuzz` runs 120,000).
 */

/** Inputs per fuzz suite. */
export function fuzzInputs(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env['FUZZ_INPUTS'] ?? '');
  return Number.isInteger(v) && v > 0 ? Math.min(v, 1_000_000) : 4000;
}

export type Rng = () => number;

/** mulberry32: a small seeded generator in [0, 1). */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (r: Rng, n: number): number => Math.floor(r() * n);
export const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const STRINGS = [
  '',
  ' ',
  'a',
  '0',
  '-1',
  'null',
  '{}',
  '[]',
  '\u0000',
  '\ud800',
  '😀',
  '@x:y',
  '!r:y',
  '__proto__',
  'constructor',
  'm.call.invite',
  'sfu',
  'x'.repeat(300),
];
const NUMBERS = [0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, Number.MAX_SAFE_INTEGER];

/** One random JSON value (bounded depth). */
export function junk(r: Rng, depth = 0): unknown {
  const k = int(r, depth > 2 ? 5 : 8);
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, NUMBERS);
    case 3:
      return pick(r, STRINGS);
    case 4:
      return String.fromCharCode(...Array.from({ length: int(r, 12) }, () => int(r, 0x3000)));
    case 5:
      return Array.from({ length: int(r, 4) }, () => junk(r, depth + 1));
    case 6: {
      const o: Record<string, unknown> = {};
      for (let i = int(r, 4); i > 0; i--) {
        own(o, pick(r, STRINGS), junk(r, depth + 1));
      }
      return o;
    }
    default: {
      let v: unknown = pick(r, STRINGS);
      for (let i = int(r, 200); i > 0; i--) {
        v = [v]; // deep nesting
      }
      return v;
    }
  }
}

/** Sets an own property as JSON.parse would (a key "__proto__" stays data, not the prototype). */
function own(o: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The paths to every node of `v` (the root is []). */
function paths(
  v: unknown,
  at: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) {
    v.forEach((x, i) => paths(x, [...at, i], out));
  } else if (typeof v === 'object' && v !== null) {
    for (const k of Object.keys(v)) {
      paths((v as Record<string, unknown>)[k], [...at, k], out);
    }
  }
  return out;
}

/** `v` (not modified) with 1–3 random edits: a node replaced, deleted, duplicated, or a key added. */
export function mutateJson(v: unknown, r: Rng): unknown {
  let root: unknown = structuredClone(v);
  for (let n = 1 + int(r, 3); n > 0; n--) {
    const all = paths(root);
    const path = pick(r, all);
    if (path.length === 0) {
      root = r() < 0.8 ? root : junk(r);
      if (typeof root !== 'object' || root === null) {
        continue;
      }
    }
    const parentPath = path.slice(0, -1);
    let parent: unknown = root;
    for (const p of parentPath) {
      parent = (parent as Record<string | number, unknown>)[p];
    }
    const key = path[path.length - 1];
    if (key === undefined || typeof parent !== 'object' || parent === null) {
      continue;
    }
    const obj = parent as Record<string | number, unknown>;
    switch (int(r, 4)) {
      case 0:
        own(obj, key, junk(r));
        break;
      case 1:
        if (Array.isArray(obj)) {
          obj.splice(Number(key), 1);
        } else {
          Reflect.deleteProperty(obj, key);
        }
        break;
      case 2:
        if (Array.isArray(obj)) {
          obj.push(structuredClone(obj[key]));
        } else {
          own(obj, `${String(key)}_`, structuredClone(obj[key]));
        }
        break;
      default:
        if (!Array.isArray(obj)) {
          own(obj, pick(r, STRINGS), junk(r));
        }
    }
  }
  return root;
}

/** `s` with 1–4 random edits of characters or lines (SDP, JSON text). */
export function mutateText(s: string, r: Rng): string {
  let t = s;
  for (let n = 1 + int(r, 4); n > 0; n--) {
    const at = int(r, t.length + 1);
    switch (int(r, 6)) {
      case 0:
        t = t.slice(0, at) + String.fromCharCode(int(r, 0x2000)) + t.slice(at + 1);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + 1 + int(r, 40));
        break;
      case 2:
        t = t.slice(0, at);
        break;
      case 3: {
        const lines = t.split('\r\n');
        const i = int(r, lines.length);
        lines.splice(int(r, lines.length), 0, lines[i] ?? ''); // a line duplicated elsewhere
        t = lines.join('\r\n');
        break;
      }
      case 4: {
        const lines = t.split('\r\n');
        lines.splice(int(r, lines.length), 1); // a line removed
        t = lines.join('\r\n');
        break;
      }
      default:
        t =
          t.slice(0, at) +
          pick(r, [':', ' ', '\r\n', '=', '/', '-1', '4294967296', 'a=', '\n', ';']) +
          t.slice(at);
    }
  }
  return t;
}

/** `b` (not modified) with 1–4 random byte edits: flips, boundary values, truncation, extension. */
export function mutateBytes(b: Uint8Array, r: Rng): Buffer {
  let out = Buffer.from(b);
  for (let n = 1 + int(r, 4); n > 0; n--) {
    switch (int(r, 5)) {
      case 0:
        if (out.length > 0) {
          const i = int(r, out.length);
          out[i] = out[i]! ^ (1 << int(r, 8));
        }
        break;
      case 1:
        if (out.length > 0) {
          out[int(r, out.length)] = pick(r, [0x00, 0xff, 0x7f, 0x80, 0x01, 0xbe, 0xde, 0x10]);
        }
        break;
      case 2:
        out = out.subarray(0, int(r, out.length + 1));
        break;
      case 3:
        out = Buffer.concat([out, Buffer.from(Array.from({ length: int(r, 40) }, () => int(r, 256)))]);
        break;
      default:
        if (out.length > 0) {
          const i = int(r, out.length);
          out.fill(int(r, 256), i, Math.min(out.length, i + int(r, 16)));
        }
    }
  }
  return out;
}

/** Random bytes of random length (up to `max`). */
export function randomBytes(r: Rng, max = 1500): Buffer {
  return Buffer.from(Array.from({ length: int(r, max + 1) }, () => int(r, 256)));
}
