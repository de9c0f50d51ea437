/**
 * `npm run fuzz`: every fuzz target, `FUZZ_RUNS` inputs each (default 2000), against one in-process server; prints a
 * table (target, runs, accepted/2xx, rejected/4xx, documented 5xx, known issues, failures, time) and then each
 * failure with its shrunk counterexample. Exit code 1 when any target failed. `FUZZ_SEED` replays a run (each target
 * prints its seed), `FUZZ_TARGETS` picks targets, `FUZZ_VERBOSE=1` also prints what the inputs got, by status and
 * error code (to see that a generator reaches past the first check). For the races target, the counts are of answers
 * (several per input).
 *
 *   FUZZ_RUNS=500 FUZZ_SEED=42 FUZZ_TARGETS=sdp-offers,websocket npm run fuzz
 */
import { FuzzServer } from './fuzz-server.js';
import type { FuzzReport } from './fuzz-target.js';
import { TARGETS } from './targets.js';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const only = process.env.FUZZ_TARGETS?.split(',').map((s) => s.trim());
if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a positive integer (got ${process.env.FUZZ_RUNS})`);
const targets = TARGETS.filter((t) => !only || only.includes(t.targetName));
if (targets.length === 0) throw new Error(`no target named ${only?.join(', ')}; targets: ${TARGETS.map((t) => t.targetName).join(', ')}`);

const started = performance.now();
const server = await FuzzServer.start();
const reports: FuzzReport[] = [];
try {
  for (const target of targets) {
    process.stderr.write(`fuzzing ${target.targetName} (${runs} runs)…\n`);
    reports.push(await target({ runs, ...(seed !== undefined ? { seed } : {}), server }));
  }
} finally {
  await server.close();
}

const rows = reports.map((r) => [
  r.target,
  String(r.runs),
  String(r.accepted),
  String(r.rejected),
  String(r.refused5xx),
  Object.entries(r.known)
    .map(([id, n]) => `${id}×${n}`)
    .join(' ') || '0',
  String(r.failures.length),
  `${(r.ms / 1000).toFixed(1)} s`,
  String(r.seed),
]);
const head = ['target', 'runs', 'accepted/2xx', 'rejected/4xx', 'documented 5xx', 'known issues', 'failures', 'time', 'seed'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}`);
console.log(`\n${targets.length} targets, ${runs} runs each, ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
if (process.env.FUZZ_VERBOSE) {
  for (const r of reports) {
    const top = Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]);
    console.log(`\n${r.target}: ${top.map(([o, n]) => `${o} ×${n}`).join(', ')}`);
  }
}
for (const r of reports) for (const f of r.failures) console.log(`\n--- ${r.target} (seed ${r.seed}) ---\n${f}`);
process.exitCode = reports.some((r) => r.failures.length > 0) ? 1 : 0;
