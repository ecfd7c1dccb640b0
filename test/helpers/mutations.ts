/** Fuzzing by structure, for "never throws" tests of parsers fed JSON. */

/** Every value obtained by replacing one node of `v` (itself included) with each of `junk`. */
export function* mutations(v: unknown, junk: readonly unknown[]): Generator {
  for (const j of junk) {
    yield j;
  }
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      for (const m of mutations(v[i], junk)) {
        yield v.map((x, k) => (k === i ? m : x));
      }
    }
  } else if (typeof v === 'object' && v !== null) {
    for (const key of Object.keys(v)) {
      for (const m of mutations((v as Record<string, unknown>)[key], junk)) {
        yield { ...v, [key]: m };
      }
    }
  }
}
