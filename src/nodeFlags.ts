/**
 * The Node flags a focus is meant to run with — package.json `start`, the Dockerfile's ENTRYPOINT and the test
 * harness's focus processes pass them (test/unit/nodeFlags.test.ts keeps the first two in step with this list):
 *
 * - `--initial-old-space-size=256`: without it V8 keeps the old generation's limit close to what is live after
 *   each full collection, and a focus under steady load (≈ 50 MB live with 8 publishers and 16 subscribers)
 *   ran an incremental mark-compact every ≈ 3 s — 6–30 ms on the main thread each, more on V8's helper threads,
 *   for garbage that a young-generation scavenge would have taken anyway. With the limit at 256 MB the same
 *   load ran none in three minutes (bench/README.md, "Full collections every 3 s"). The heap still grows
 *   only as far as garbage survives; past 256 MB live, V8's own sizing applies again.
 * - `--no-memory-reducer`: when the allocation rate drops (a light load, or after a busy period) V8's memory
 *   reducer shrinks the heap: three full collections in a row (8–21 ms pauses, more on the helper threads) and a
 *   young generation cut to 1 MB, after which a focus forwarding 330 packets a second scavenged every 1–2 s.
 *   Without it `fanout` at 1 subscriber cost 69–86 µs per forwarded packet against 96–117 with it, and no GC
 *   pause over 5 ms at 1 or 20 subscribers in two runs (bench/README.md, "The memory reducer"). The price: the
 *   heap is not handed back to the system after a busy period.
 *
 * Node refuses V8 heap flags in NODE_OPTIONS, so they go on the command line; a focus started without them says
 * so once at start-up (`missingNodeFlags`).
 */
export const FOCUS_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=256', '--no-memory-reducer'];

/** A flag's name: before `=`, with V8's underscores read as dashes. */
function nameOf(flag: string): string {
  const eq = flag.indexOf('=');
  return (eq < 0 ? flag : flag.slice(0, eq)).replace(/_/g, '-');
}

/** The flags of FOCUS_NODE_FLAGS that `execArgv` does not give (by name: any value given counts). Pure. */
export function missingNodeFlags(execArgv: readonly string[]): string[] {
  const given = new Set(execArgv.map(nameOf));
  return FOCUS_NODE_FLAGS.filter((f) => !given.has(nameOf(f)));
}
