import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../../server/src/store/database.ts';

const HOUR = 3600_000;
/** How an offer that was not taken ended, in turn. */
const NOT_TAKEN = ['declined', 'expired', 'expired'] as const;

export type DeskRow = Record<string, string | number | null>;
const at = (ms: number) => new Date(ms).toISOString();

/** A `desk_handoffs` row in the general queue, episode 1; assigned 5 s in when it has an agent. */
export function deskHandoffRow(input: {
  conversationId: string;
  state: string;
  waitingSince: number;
  agentId: string | null;
  assignedAt?: number;
  updatedAt?: number;
}): DeskRow {
  const assignedAt = input.agentId ? (input.assignedAt ?? input.waitingSince + 5_000) : undefined;
  return {
    conversation_id: input.conversationId,
    state: input.state,
    queue: 'general',
    priority: 'normal',
    skills: '[]',
    language: null,
    target_agent_id: null,
    excluded_agent_ids: '[]',
    waiting_since: at(input.waitingSince),
    episode: 1,
    agent_id: input.agentId,
    assigned_at: assignedAt === undefined ? null : at(assignedAt),
    position: null,
    estimate_seconds: null,
    updated_at: at(input.updatedAt ?? input.waitingSince + 300_000),
  };
}

/** A `desk_offers` row for episode 1, living 30 s; decided 3 s in unless still open. */
export function deskOfferRow(input: {
  conversationId: string;
  state: string;
  createdAt: number;
  agentId: string;
  waitingSince?: number;
}): DeskRow {
  return {
    id: randomUUID(),
    conversation_id: input.conversationId,
    episode: 1,
    agent_id: input.agentId,
    queue: 'general',
    state: input.state,
    waiting_since: at(input.waitingSince ?? input.createdAt - 2_000),
    created_at: at(input.createdAt),
    expires_at: at(input.createdAt + 30_000),
    decided_at: input.state === 'open' ? null : at(input.createdAt + 3_000),
  };
}

/** Inserts rows into a desk table, 500 at a time (well under either database's parameter limit). */
export async function insertDeskRows(db: Kysely<Database>, table: 'desk_offers' | 'desk_handoffs', rows: DeskRow[]) {
  for (let start = 0; start < rows.length; start += 500) {
    await db
      .insertInto(table as never)
      .values(rows.slice(start, start + 500) as never)
      .execute();
  }
}

/**
 * A desk's past, written straight into its tables: `offers` finished offers and half as many closed
 * handoffs, spread over the two days before `now` (less the last ten minutes). Each past wait had two
 * offers 20 s apart, the first not taken and the second accepted, and was handled for five minutes; its
 * row and its offers share its start, as the router writes them. The conversations themselves are not
 * written: nothing on the desk reads a closed wait's conversation. The bench (`--history`) and
 * `scripts/desk-history.ts` use it to see whether what the live desk reads grows with its past.
 */
export async function seedDeskHistory(
  db: Kysely<Database>,
  input: { agentIds: readonly string[]; offers: number; from?: number; now?: number },
): Promise<void> {
  if (input.agentIds.length === 0) throw new Error('seedDeskHistory: no agents to give the past offers to');
  const now = input.now ?? Date.now();
  const offers: DeskRow[] = [];
  const handoffs: DeskRow[] = [];
  for (let index = input.from ?? 0; index < input.offers; index++) {
    const wait = index >> 1;
    const conversationId = `past-${wait}`;
    const waitingSince = now - 10 * 60_000 - ((wait * 7_919_000) % (48 * HOUR));
    const agentId = input.agentIds[index % input.agentIds.length] as string;
    const createdAt = waitingSince + 2_000 + (index % 2) * 20_000;
    const taken = index % 2 === 1;
    const state = taken ? 'accepted' : (NOT_TAKEN[wait % NOT_TAKEN.length] as string);
    offers.push(deskOfferRow({ conversationId, state, createdAt, agentId, waitingSince }));
    if (taken) {
      handoffs.push(
        deskHandoffRow({
          conversationId,
          state: 'closed',
          waitingSince,
          agentId,
          assignedAt: createdAt + 3_000,
          updatedAt: createdAt + 3_000 + 300_000,
        }),
      );
    }
  }
  await insertDeskRows(db, 'desk_offers', offers);
  await insertDeskRows(db, 'desk_handoffs', handoffs);
}
