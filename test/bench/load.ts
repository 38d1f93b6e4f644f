// One autocannon run in a process of its own, so the load generator's CPU is
// neither the measured server's nor shared with it any differently on either
// side of a comparison. argv[2]: the run as JSON (autocannon's options, plus
// `tlsFiles` naming PEM files for a client certificate); prints the result as JSON.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

interface Run extends autocannon.Options {
  tlsFiles?: { ca: string; cert: string; key: string };
}

const { tlsFiles, ...options } = JSON.parse(process.argv[2] as string) as Run;
const tlsOptions = tlsFiles && {
  ca: readFileSync(tlsFiles.ca),
  cert: readFileSync(tlsFiles.cert),
  key: readFileSync(tlsFiles.key),
};
autocannon({ ...options, ...(tlsOptions ? { tlsOptions } : {}) } as autocannon.Options, (error, result) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify(result));
});
