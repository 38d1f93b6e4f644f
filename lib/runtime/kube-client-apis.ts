// Loads only the part of @kubernetes/client-node the operator and the API use.
// Its KubeConfig (dist/config.js) imports gen/index.js, which loads every
// generated API group: 67 request-factory modules (7 MB of source) and the
// 7 MB ObservableAPI.js that wraps them, tens of MiB of code and heap in each
// process although the programs call five of them. Run with
// `node --import ./lib/runtime/kube-client-apis.ts program.ts` (the images'
// ENTRYPOINTs, the dev environment and the benches do): a synchronous module
// hook keeps the used API classes as they are and puts in place of every
// other one a class that throws when constructed, naming this file, so a
// program that starts using another API fails at once and plainly.
// kube-client-apis.test.ts checks the programs' sources name no API left out.
import { registerHooks } from 'node:module';

/** The generated API groups the operator and the API construct (`makeApiClient(k8s.XApi)`). */
export const keptApis: ReadonlySet<string> = new Set([
  'CoreV1Api',
  'BatchV1Api',
  'CustomObjectsApi',
  'CoordinationV1Api',
]);

const gen = '/node_modules/@kubernetes/client-node/dist/gen/';
const apiModule = /\/apis\/(\w+Api)\.js$/;

function stubClass(name: string): string {
  return `export class ${name} { constructor() { throw new Error(${JSON.stringify(
    `@kubernetes/client-node's ${name} is not loaded: add its API to keptApis in lib/runtime/kube-client-apis.ts`,
  )}); } }\n`;
}

/**
 * The generated ObservableAPI.js or ObjectParamAPI.js with every API class not kept replaced by a
 * stub, and the imports of the left-out request factories dropped. Both files are one-line imports
 * and `export class X... {` blocks closed by a `}` in column 0; anything else is kept as it is.
 */
export function keepApis(source: string, kept: ReadonlySet<string>): string {
  const lines = source.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const imported = /^import .* from "\.\.\/apis\/(\w+Api)\.js";$/.exec(line);
    if (imported) {
      if (kept.has(imported[1] as string)) out.push(line);
      continue;
    }
    const declared = /^export class (Observable|Object)(\w+Api) \{/.exec(line);
    if (!declared || kept.has(declared[2] as string)) {
      out.push(line);
      continue;
    }
    let end = i;
    while (end < lines.length && lines[end] !== '}') end++;
    if (end === lines.length) return source; // not the shape expected: load it whole
    out.push(stubClass(`${declared[1]}${declared[2]}`));
    i = end;
  }
  return out.join('\n');
}

/** Installs the hook; the kept set is a parameter for the tests. */
export function loadOnlyKeptApis(kept: ReadonlySet<string> = keptApis): void {
  registerHooks({
    load(url, context, nextLoad) {
      const at = url.indexOf(gen);
      if (at < 0) return nextLoad(url, context);
      const path = url.slice(at + gen.length);
      const api = apiModule.exec(url)?.[1];
      if (path.startsWith('apis/') && api && !kept.has(api)) {
        const source = `${stubClass(`${api}RequestFactory`)}${stubClass(`${api}ResponseProcessor`)}`;
        return { format: 'module', source, shortCircuit: true };
      }
      const loaded = nextLoad(url, context);
      if (path !== 'types/ObservableAPI.js' && path !== 'types/ObjectParamAPI.js') return loaded;
      return { ...loaded, source: keepApis(String(loaded.source), kept) };
    },
  });
}

loadOnlyKeptApis();
