// Benchmark results: each bench script prints its headline figures (vdl,
// baseline, ratio, goal) and a detail table, and hands them as JSON to
// run-all.ts (in VDL_BENCH_RESULTS_DIR), which combines them into one table,
// test/bench/results/RESULTS.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchFigure {
  /** The numbering: "1", "2", ... */
  id: string;
  measure: string;
  vdl: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** undefined: no goal to meet (a figure for context). */
  met: boolean | undefined;
}

export interface BenchReport {
  name: string;
  finishedAt: string;
  seconds: number;
  figures: BenchFigure[];
  details: Array<[string, string]>;
}

export const resultsDir = new URL('./results/', import.meta.url);

function slug(name: string): string {
  return name.toLowerCase().replaceAll(/[^a-z0-9]+/g, '-');
}

export function verdict(met: boolean | undefined): string {
  return met === undefined ? '' : met ? 'yes' : 'NO';
}

export function figuresTable(figures: BenchFigure[]): string {
  const rows = figures.map(
    (f) =>
      `| ${f.id} | ${f.measure} | ${f.vdl} | ${f.baseline} | ${f.ratio} | ${f.goal} | ${verdict(f.met)} |`,
  );
  return [
    '| # | measure | vdl | baseline | ratio | goal | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

export function detailsTable(details: Array<[string, string]>): string {
  return ['| detail | value |', '| --- | --- |', ...details.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

/** Prints a bench's figures and details and keeps them for the combined table. */
export function reportBench(
  name: string,
  startedAt: number,
  figures: BenchFigure[],
  details: Array<[string, string]>,
) {
  const report: BenchReport = {
    name,
    finishedAt: new Date().toISOString(),
    seconds: Math.round((performance.now() - startedAt) / 1000),
    figures,
    details,
  };
  console.log(`\n## ${name}\n\n${figuresTable(figures)}\n\n${detailsTable(details)}\n`);
  const handOver = process.env.VDL_BENCH_RESULTS_DIR;
  if (!handOver) return;
  mkdirSync(handOver, { recursive: true });
  writeFileSync(join(handOver, `${slug(name)}.json`), JSON.stringify(report));
}

export function readReport(dir: string, name: string): BenchReport | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${slug(name)}.json`), 'utf8')) as BenchReport;
  } catch {
    return undefined;
  }
}

/** A bench's section of RESULTS.md: its figures and details, dated. */
export function sectionText(report: BenchReport): string {
  return `## ${report.name} (${report.finishedAt}, ${report.seconds} s)\n\n${figuresTable(report.figures)}\n\n${detailsTable(report.details)}\n`;
}

/** The sections of a RESULTS.md, by bench name, in file order. */
export function sectionsOf(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  for (const part of text.split(/^(?=## )/m).slice(1)) {
    const name = /^## (.*) \(/.exec(part)?.[1];
    if (name) sections.set(name, `${part.trimEnd()}\n`);
  }
  return sections;
}

/** RESULTS.md: the header, one table of every section's figure rows (by id), then the sections. */
export function resultsText(header: string, sections: string[], extraRows: string[] = []): string {
  const rows = sections.flatMap((section) => {
    const table = section.split('\n\n')[1] ?? '';
    return table.split('\n').slice(2);
  });
  const id = (row: string) => row.split('|')[1]?.trim() ?? '';
  rows.sort((a, b) => id(a).localeCompare(id(b), 'en', { numeric: true }));
  const table = [
    '| # | measure | vdl | baseline | ratio | goal | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    ...extraRows,
  ];
  return `# ${header}\n\nEach ratio is vdl over its baseline, both measured in the same run. \`make bench\` writes this file.\n\n${table.join('\n')}\n\n${sections.join('\n')}`;
}
