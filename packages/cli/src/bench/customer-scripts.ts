import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CustomerScript } from './bench-protocol.ts';

const fixtures = new URL('./fixtures/', import.meta.url);

/** Customer lines from real support conversations (ABCD, STAR; MIT, see fixtures/README.md). */
export function loadCustomerScripts(): CustomerScript[] {
  return z
    .array(CustomerScript)
    .min(1)
    .parse(JSON.parse(readFileSync(new URL('customer-scripts.json', fixtures), 'utf8')));
}

/** Real customer lines asking for a person, used as handoff triggers. */
export function loadHandoffRequests(): string[] {
  const parsed = z
    .object({ lines: z.array(z.string().min(1)).min(1) })
    .parse(JSON.parse(readFileSync(new URL('handoff-requests.json', fixtures), 'utf8')));
  return parsed.lines;
}
