// What an image holds and what its program needs: the files the final stage of
// a Dockerfile copies from the build context (less .dockerignore), and every
// file and package the entry point reaches through static imports. An image
// whose program imports a file it does not copy fails at start with
// ERR_MODULE_NOT_FOUND; nothing else would notice before a real cluster does.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

export interface ImageLayout {
  /** Repository-relative paths of the files the final stage copies from the context. */
  files: Set<string>;
  /** The program the ENTRYPOINT runs, repository-relative. */
  entryPoint: string;
  /** The modules node loads before it (`--import`), repository-relative. */
  preloads: string[];
}

/** A pattern of .dockerignore as a test on repository-relative paths (the subset Docker's own matcher and this repository use). */
function ignoreMatcher(pattern: string): (path: string) => boolean {
  const source = pattern
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((part) =>
      part === '**'
        ? '(?:.*)'
        : part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
    )
    .join('/')
    .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
  const regex = new RegExp(`^${source}(?:/.*)?$`);
  return (path) => regex.test(path);
}

/** The final stage's COPY sources from the build context, and its ENTRYPOINT's program. */
export function parseDockerfile(text: string): {
  sources: string[];
  workdir: string;
  entryPoint: string;
  preloads: string[];
} {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const lastFrom = lines.findLastIndex((line) => /^FROM\s/i.test(line.trim()));
  const sources: string[] = [];
  let workdir = '/';
  let entryPoint = '';
  let preloads: string[] = [];
  for (const line of lines.slice(lastFrom)) {
    const [instruction = '', ...args] = line.trim().split(/\s+/);
    if (/^WORKDIR$/i.test(instruction)) workdir = args[0] ?? '/';
    if (/^COPY$/i.test(instruction) && !args.some((arg) => arg.startsWith('--from'))) {
      const paths = args.filter((arg) => !arg.startsWith('--'));
      sources.push(...paths.slice(0, -1).map((path) => path.replace(/^\.\//, '')));
    }
    if (/^ENTRYPOINT$/i.test(instruction)) {
      const argv = JSON.parse(args.join(' ')) as string[];
      preloads = argv.flatMap((arg, i) => (argv[i - 1] === '--import' ? [arg] : []));
      entryPoint =
        argv.find((arg, i) => (arg.endsWith('.ts') || arg.endsWith('.js')) && argv[i - 1] !== '--import') ??
        '';
    }
  }
  if (!entryPoint) throw new Error('no ENTRYPOINT running a .ts or .js program in the final stage');
  // The program path is absolute in the image; the context files land under WORKDIR.
  return {
    sources,
    workdir,
    entryPoint: relative(workdir, entryPoint),
    preloads: preloads.map((preload) => relative(workdir, preload)),
  };
}

/** The image's file set: each copied source (a file, or a folder with everything under it) less what .dockerignore drops. */
export function imageLayout(root: string, dockerfile: string, trackedFiles: string[]): ImageLayout {
  const { sources, entryPoint, preloads } = parseDockerfile(readFileSync(join(root, dockerfile), 'utf8'));
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map(ignoreMatcher);
  const files = new Set<string>();
  for (const source of sources) {
    const isDir = existsSync(join(root, source)) && statSync(join(root, source)).isDirectory();
    for (const file of trackedFiles) {
      if (file === source || (isDir && file.startsWith(`${source.replace(/\/$/, '')}/`))) {
        if (!ignored.some((matches) => matches(file))) files.add(file);
      }
    }
  }
  return { files, entryPoint, preloads };
}

/** The modules a file loads at run time: `import type` and `export type` are erased by Node's type stripping, so they do not count. */
export function runtimeImports(source: string): string[] {
  const file = ts.createSourceFile('module.ts', source, ts.ScriptTarget.Latest, false);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isImportDeclaration(node) &&
      !node.importClause?.isTypeOnly &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      !node.isTypeOnly &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      specifiers.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      specifiers.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return specifiers;
}

/** Every repository file and npm package the entry point reaches through its run-time imports. */
export function importClosure(
  root: string,
  ...entryPoints: string[]
): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = entryPoints.map((entryPoint) => normalize(entryPoint));
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeImports(readFileSync(join(root, file), 'utf8'))) {
      if (specifier.startsWith('.')) {
        pending.push(normalize(join(dirname(file), specifier)));
      } else if (!specifier.startsWith('node:')) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
      }
    }
  }
  return { files, packages };
}
