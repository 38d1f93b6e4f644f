// What every image must be, read from its Dockerfile: built on the one public
// base, debian:bookworm-slim (or on an image of ours built before it), run as
// the non-root user the chart and the operator expect, with no build tools in
// what runs, and built by `make images`. Breaking one of these only shows on a
// real node otherwise.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { imageNames } from '../toolchain/images.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const publicBase = 'debian:bookworm-slim';
const nonRootUser = '65532:65532';
// Packages for building, which belong in an earlier stage if anywhere.
const buildTools =
  /\b(build-essential|gcc|g\+\+|make|git|curl|wget|python3-pip|python3-venv|python3-dev|npm)\b/;

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

function stages(text: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const result: Stage[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(trimmed);
    if (from) {
      const image = (from[1] as string).replace(/^\$\{(\w+)\}$/, (_, arg: string) => args.get(arg) ?? '');
      result.push({ from: image, name: from[2], lines: [] });
    } else if (result.length === 0) {
      const arg = /^ARG\s+(\w+)=(\S+)/i.exec(trimmed);
      if (arg) args.set(arg[1] as string, arg[2] as string);
    } else {
      result.at(-1)?.lines.push(trimmed);
    }
  }
  return { args, stages: result };
}

const dockerfiles = new Map(
  readdirSync(`${root}/images`, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => {
      try {
        return [[entry.name, readFileSync(`${root}/images/${entry.name}/Dockerfile`, 'utf8')] as const];
      } catch {
        return [];
      }
    }),
);

/** Which of our images a reference names (`REGISTRY/NAME:TAG`, the registry being any of VDL_IMAGE_REGISTRY's), if any. */
function ourImage(reference: string): string | undefined {
  const name = /^.+\/([^/:]+):[^/]+$/.exec(reference)?.[1];
  return name && dockerfiles.has(name) ? name : undefined;
}

function finalUser(name: string): string | undefined {
  const final = stages(dockerfiles.get(name) ?? '').stages.at(-1);
  const own = final?.lines.findLast((line) => /^USER\s/i.test(line))?.split(/\s+/)[1];
  if (own) return own;
  const base = final && ourImage(final.from);
  return base ? finalUser(base) : undefined;
}

describe('make images', () => {
  it('builds every Dockerfile under images/, and nothing else', () => {
    expect([...dockerfiles.keys()].sort()).toEqual([...imageNames].sort());
    const script = readFileSync(`${root}/test/toolchain/images.sh`, 'utf8');
    expect(/^NAMES=\(([^)]*)\)/m.exec(script)?.[1]?.split(/\s+/)).toEqual([...imageNames]);
  });
});

describe.each([...dockerfiles.keys()])('images/%s/Dockerfile', (name) => {
  const { stages: all } = stages(dockerfiles.get(name) as string);
  const final = all.at(-1) as Stage;

  it(`starts every stage from ${publicBase}, an earlier stage, or one of our images built before it`, () => {
    all.forEach((stage, index) => {
      const earlierStage = all.slice(0, index).some((other) => other.name === stage.from);
      const ours = ourImage(stage.from);
      const builtBefore =
        ours !== undefined && imageNames.indexOf(ours as never) < imageNames.indexOf(name as never);
      expect(stage.from === publicBase || earlierStage || builtBefore, `FROM ${stage.from}`).toBe(true);
    });
  });

  it(`runs as ${nonRootUser}, the user the chart's and the operator's security contexts name`, () => {
    expect(finalUser(name)).toBe(nonRootUser);
  });

  it('installs no build tools in the stage that runs, and copies in no wheels', () => {
    const installs = final.lines.filter((line) => /^RUN\s/i.test(line) && /\b(install|add)\b/.test(line));
    expect(installs.filter((line) => buildTools.test(line.replace(/--no-install-recommends/g, '')))).toEqual(
      [],
    );
    expect(final.lines.filter((line) => /^RUN\s.*\bpip\b/i.test(line))).toEqual([]);
    expect(final.lines.filter((line) => /^COPY\s.*wheels/i.test(line))).toEqual([]);
  });

  it('runs a program the image has', () => {
    const entryPoint = final.lines.find((line) => /^ENTRYPOINT\s/i.test(line));
    if (!entryPoint) {
      expect(ourImage(final.from), 'no ENTRYPOINT and no base of ours to inherit one').toBeDefined();
      return;
    }
    const program = (JSON.parse(entryPoint.replace(/^ENTRYPOINT\s+/i, '')) as string[])[0] as string;
    const copied = final.lines.some((line) => /^COPY\s/i.test(line) && line.trim().endsWith(` ${program}`));
    const inherited = ourImage(final.from) !== undefined;
    expect(copied || inherited, `${program} is neither copied in nor in a base of ours`).toBe(true);
  });
});

describe('the MinIO image', () => {
  it('is the minio server itself, so the chart passes only its arguments', () => {
    const entryPoint = stages(dockerfiles.get('minio') ?? '')
      .stages.at(-1)
      ?.lines.find((line) => /^ENTRYPOINT\s/i.test(line));
    expect(entryPoint).toMatch(/\/minio"\]$/);
    const chart = readFileSync(`${root}/charts/vdl/templates/minio.yaml`, 'utf8');
    expect(chart).toMatch(/^\s+args: \[server, /m);
    expect(chart).not.toMatch(/^\s+command:/m);
  });
});
