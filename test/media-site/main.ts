// The test media site as a program (the test-media image's entry point): serves
// the generated media on VDL_MEDIA_PORT (default 8080) on every address, for
// pods of a real node to download from. Test-only.
import { startMediaServer } from '../support/media-server.ts';

const port = Number(process.env.VDL_MEDIA_PORT ?? 8080);
const media = await startMediaServer({
  host: '0.0.0.0',
  port,
  forbiddenRedirect: 'http://169.254.169.254/latest/meta-data/',
});
console.log(JSON.stringify({ msg: 'media site ready', url: media.url }));
process.on('SIGTERM', () => void media.close().then(() => process.exit(0)));
