/**
 * Another process holding SQLite's write lock, for the store test. Takes `{ file, conversationId,
 * holdMs? }` from argv; in one immediate transaction claims the conversation's next seq and inserts its
 * event (as an append from another server would), says `locked`, then commits after `holdMs` or when
 * it reads `commit`, and says `committed`.
 */
import { createInterface } from 'node:readline';
import BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';

const Args = z.object({
  file: z.string(),
  conversationId: z.string(),
  holdMs: z.number().int().nonnegative().optional(),
});

const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const database = new BetterSqlite3(args.file);
database.pragma('busy_timeout = 5000');
database.exec('begin immediate');
const claimed = database
  .prepare('update conversations set last_seq = last_seq + 1 where id = ? returning last_seq')
  .get(args.conversationId) as { last_seq: number };
database
  .prepare('insert into events (conversation_id, seq, type, at, body) values (?, ?, ?, ?, ?)')
  .run(
    args.conversationId,
    claimed.last_seq,
    'message',
    new Date().toISOString(),
    JSON.stringify({ type: 'message', author: 'customer', text: 'from the other process' }),
  );
process.stdout.write('locked\n');

const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => {
  if (args.holdMs !== undefined) setTimeout(resolve, args.holdMs);
  lines.on('line', (line) => {
    if (line.trim() === 'commit') resolve();
  });
});
database.exec('commit');
database.close();
process.stdout.write('committed\n');
process.exit(0);
