import { BatonError } from '@baton/core';
import { benchCommand } from './commands/bench.ts';
import { evalCommand } from './commands/eval.ts';
import { evalDevCommand } from './commands/eval-dev.ts';
import { startCommand } from './commands/start.ts';

type Command = (args: string[]) => Promise<number>;

/** Every `baton` sub-command: one line each, the module does the rest. */
const commands: Record<string, Command> = {
  bench: benchCommand,
  eval: evalCommand,
  'eval-dev': evalDevCommand,
  start: startCommand,
};

/** node:util parseArgs refuses unknown options, missing values and stray positionals with these codes. */
function isUsageError(error: unknown): error is Error {
  return error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS_');
}

const [name, ...args] = process.argv.slice(2);
const command = name ? commands[name] : undefined;
if (!command) {
  console.error(
    `baton: ${name ? `unknown command "${name}"` : 'no command'}; commands: ${Object.keys(commands).join(', ')}`,
  );
  process.exitCode = 2;
} else {
  try {
    process.exitCode = await command(args);
  } catch (error) {
    if (isUsageError(error)) {
      // A flag the command does not know, or one missing its value: say which, not where it was noticed.
      console.error(`baton ${name}: ${error.message} (see baton ${name} --help)`);
      process.exitCode = 2;
    } else {
      console.error(
        `baton ${name}: ${BatonError.is(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exitCode = 1;
    }
  }
}
