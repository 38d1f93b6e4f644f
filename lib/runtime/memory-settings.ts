// V8 settings for a long-running program that holds large caches: grow the
// heap sparingly and give memory back. Set when imported, before the caches
// fill; make bench (benchmark 4) measures the difference.
//
// As the programs' first import it is also the first module to run, after
// Node has compiled every module the program imports statically. With
// VDL_COMPILE_CACHE_WARMUP=1 it ends the program there, having written those
// compilations to NODE_COMPILE_CACHE: the images do that at build time, so a
// started program strips no TypeScript and never loads Node's type stripper
// (about 20 MiB of resident memory for the rest of its life).
import { flushCompileCache } from 'node:module';
import { setFlagsFromString } from 'node:v8';

if (process.env.VDL_COMPILE_CACHE_WARMUP === '1') {
  flushCompileCache();
  process.exit(0);
}

setFlagsFromString('--optimize-for-size');
