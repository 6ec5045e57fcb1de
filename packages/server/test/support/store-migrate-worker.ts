/** Migrates the database named in argv once; the store contract test runs several at the same time. */
import { z } from 'zod';
import { createStore } from '../../src/store/sql-store.ts';

const Args = z.object({ url: z.string().optional(), file: z.string().optional(), schema: z.string().optional() });
const args = Args.parse(JSON.parse(process.argv[2] ?? '{}'));
const store = createStore({
  ...(args.url ? { url: args.url } : {}),
  ...(args.file ? { file: args.file } : {}),
  ...(args.schema ? { schema: args.schema } : {}),
});
try {
  await store.migrate();
} finally {
  await store.close();
}
