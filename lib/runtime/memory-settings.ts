// V8 settings for a long-running program that holds large caches: grow the
// heap sparingly and give memory back. Set when imported, before the caches
// fill; make bench (benchmark 4) measures the difference. As the operator's
// and the API's first import, it brings the compile cache's warm-up first.
import './compile-cache-warmup.ts';
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--optimize-for-size');
