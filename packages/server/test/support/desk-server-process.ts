/**
 * One Baton server process for the multi-process desk test: configured from the environment exactly
 * like `baton start`, it prints `READY <url>` once listening and stops on SIGTERM.
 */
import { createServer } from '../../src/app/server.ts';
import { loadConfig } from '../../src/config.ts';

const server = await createServer(loadConfig(process.env));
process.stdout.write(`READY ${server.url}\n`);
const stop = () => {
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
