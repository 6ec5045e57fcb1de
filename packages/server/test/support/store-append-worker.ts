/**
 * A second process appending to the same database as the store contract test. Reads its config
 * from argv, says `ready` once connected, appends when it reads `go`, then says `done`.
 */
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { createStore } from '../../src/store/sql-store.ts';

const Args = z.object({
  url: z.string().optional(),
  file: z.string().optional(),
  schema: z.string().optional(),
  conversationId: z.string(),
  writers: z.number().int().positive(),
  tag: z.string(),
});

const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const store = createStore({
  ...(args.url ? { url: args.url } : {}),
  ...(args.file ? { file: args.file } : {}),
  ...(args.schema ? { schema: args.schema } : {}),
});
await store.getConversation(args.conversationId);
process.stdout.write('ready\n');

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  await Promise.all(
    Array.from({ length: args.writers }, (_, writer) =>
      store.append(args.conversationId, [
        { type: 'message', author: 'customer', text: `${args.tag}-${writer}-a` },
        { type: 'message', author: 'customer', text: `${args.tag}-${writer}-b` },
      ]),
    ),
  );
  process.stdout.write('done\n');
  break;
}
lines.close();
await store.close();
