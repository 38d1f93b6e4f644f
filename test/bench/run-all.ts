// `make bench`: runs every benchmark as its own process, one after another
// (each starts its own control plane), then prints one combined table and
// writes it, with each bench's details, to test/bench/results/RESULTS.md.
// A bench that fails shows as a failed row; the run then exits non-zero.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BenchFigure,
  figuresTable,
  readReport,
  resultsDir,
  resultsText,
  sectionsOf,
  sectionText,
} from './results-table.ts';

const benches: Array<{ script: string; name: string }> = [
  { script: 'submission-and-memory.ts', name: 'submission and memory' },
  { script: 'api-status.ts', name: 'api status reads' },
  { script: 'whole-system.ts', name: 'whole system' },
  { script: 'downloader-overhead.ts', name: 'downloader overhead' },
  { script: 'archive.ts', name: 'archive' },
];
const only = process.env.VDL_BENCH_ONLY?.split(',');
const handOver = mkdtempSync(join(tmpdir(), 'vdl-bench-results-'));
const started = performance.now();
const failed: string[] = [];
for (const bench of benches) {
  if (only && !only.some((o) => bench.script.startsWith(o))) continue;
  console.error(`\n=== ${bench.script}`);
  const result = spawnSync(process.execPath, [fileURLToPath(new URL(bench.script, import.meta.url))], {
    stdio: 'inherit',
    env: { ...process.env, VDL_BENCH_RESULTS_DIR: handOver },
  });
  if (result.status !== 0) failed.push(bench.name);
}

const reports = benches.flatMap((bench) => readReport(handOver, bench.name) ?? []);
const figures: BenchFigure[] = reports
  .flatMap((report) => report.figures)
  .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
for (const name of failed)
  figures.push({
    id: '!',
    measure: `${name}: FAILED (see its output)`,
    vdl: '',
    baseline: '',
    ratio: '',
    goal: '',
    met: false,
  });
const minutes = ((performance.now() - started) / 60_000).toFixed(1);
const header = `vdl benchmarks, ${new Date().toISOString()}, ${cpus().length} CPUs, ${minutes} min`;
const table = figuresTable(figures);
console.log(`\n${header}\n\n${table}\n`);
rmSync(handOver, { recursive: true, force: true });
// A partial run (VDL_BENCH_ONLY) prints its part but leaves the full table in place, unless
// VDL_BENCH_UPDATE=1: then its benches' sections replace theirs and the others stay as they were.
const resultsFile = new URL('RESULTS.md', resultsDir);
const update = only && process.env.VDL_BENCH_UPDATE === '1';
if (!only || update) {
  const sections = new Map(
    update && existsSync(resultsFile) ? sectionsOf(readFileSync(resultsFile, 'utf8')) : [],
  );
  for (const report of reports) sections.set(report.name, sectionText(report));
  const ordered = benches.flatMap((bench) => sections.get(bench.name) ?? []);
  const title = update
    ? `vdl benchmarks, each section as dated (last updated ${new Date().toISOString()}: VDL_BENCH_ONLY=${only.join(',')}), ${cpus().length} CPUs`
    : header;
  mkdirSync(resultsDir, { recursive: true });
  const failedRows = table.split('\n').filter((row) => row.startsWith('| ! |'));
  writeFileSync(resultsFile, resultsText(title, ordered, failedRows));
  console.log(`written to ${fileURLToPath(resultsFile)}`);
}
if (failed.length > 0) process.exit(1);
