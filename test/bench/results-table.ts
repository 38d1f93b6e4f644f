// Prints a benchmark's table and keeps it under test/bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';

export function reportTable(name: string, rows: Array<[string, string]>): void {
  const table = rows.map(([measure, value]) => `| ${measure} | ${value} |`).join('\n');
  console.log(`\n| ${name} | value |\n| --- | --- |\n${table}\n`);
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    new URL(`${name.replaceAll(' ', '-')}.md`, dir),
    `# ${name} (${new Date().toISOString()})\n\n| measure | value |\n| --- | --- |\n${table}\n`,
  );
}
