import { parseArgs } from 'node:util';
import { BatonError } from '@baton/core';
import {
  createServer,
  DEMO_AGENT_EMAILS,
  type DemoSeed,
  loadConfig,
  resetDemoPasswords,
  type SeededAgent,
  seedDemo,
} from '@baton/server';

const HELP = `Usage: baton start [--demo] [--reset-demo-passwords] [--port N] [--host H]

Starts the Baton server (HTTP API, WebSocket stream, web apps). Configuration comes from the
environment (PORT, HOST, DATABASE_URL, REDIS_URL, LOG_LEVEL … see README.md); flags override it.

  --demo                   seed the demo workspace into an empty database and print its credentials
  --reset-demo-passwords   give the demo agents new passwords and print them
  --port N, --host H       where to listen (default 127.0.0.1:3000; PORT=0 picks a free port)
`;

function printAgents(agents: SeededAgent[]): void {
  const width = Math.max(...agents.map((agent) => agent.email.length));
  for (const agent of agents) {
    console.log(
      `    ${agent.email.padEnd(width)}  ${agent.password}   ${agent.name} (${agent.role}: ${agent.skills.join(', ')})`,
    );
  }
}

function printBanner(url: string, demo: boolean, seed: DemoSeed | undefined, reset: SeededAgent[]): void {
  console.log(`\n  Baton is running at ${url}\n`);
  console.log(`    agent console     ${url}/console/`);
  console.log(`    customer chat     ${url}/chat/`);
  console.log(`    supervisor        ${url}/supervisor/`);
  console.log(`    widget script     ${url}/widget.js`);
  console.log(`    API (OpenAPI)     ${url}/openapi.json`);
  if (seed) {
    console.log('\n  Demo workspace created. Sign-in passwords are shown this once (only their hashes are stored):\n');
    printAgents(seed.agents);
    console.log(`\n  Demo bot API key (Authorization: Bearer …): ${seed.bot.apiKey}`);
  } else if (reset.length > 0) {
    console.log('\n  New passwords for the demo agents:\n');
    printAgents(reset);
  } else if (demo) {
    console.log('\n  Demo workspace already exists; its passwords were printed when it was created.');
    console.log(`  Sign in as ${DEMO_AGENT_EMAILS.map((agent) => agent.email).join(', ')}.`);
    console.log('  Lost them? Run `npx baton start --demo --reset-demo-passwords`.');
  }
  console.log('\n  Press Ctrl+C to stop.\n');
}

export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      demo: { type: 'boolean', default: false },
      'reset-demo-passwords': { type: 'boolean', default: false },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const config = loadConfig({
    ...process.env,
    ...(values.port !== undefined ? { PORT: values.port } : {}),
    ...(values.host !== undefined ? { HOST: values.host } : {}),
  });
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    server = await createServer(config);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new BatonError(
        'unavailable',
        `${config.host}:${config.port} is already in use: stop what runs there, or choose another port with PORT=… or --port`,
      );
    }
    throw error;
  }
  const seed = values.demo ? await seedDemo(server.deps) : undefined;
  const reset = values['reset-demo-passwords'] && !seed ? await resetDemoPasswords(server.deps.database) : [];
  printBanner(server.url, values.demo, seed, reset);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(`baton: ${signal} again, exiting now`);
        process.exit(130);
      }
      stopping = true;
      console.log(`\n  ${signal}: closing connections and the database…`);
      // A stuck connection must not keep the process alive for ever.
      setTimeout(() => {
        console.error('baton: shutdown took longer than 10 s, exiting');
        process.exit(1);
      }, 10_000).unref();
      server.close().then(
        () => resolve(0),
        (error: unknown) => {
          console.error('baton: shutdown failed', error);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
