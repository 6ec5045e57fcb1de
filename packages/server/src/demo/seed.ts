import { randomBytes } from 'node:crypto';
import { EventBody, type EventBodyInput } from '@baton/core';
import { BOT_KEY_PREFIX, hashPassword, randomPassword, randomToken, sha256 } from '../app/auth.ts';
import type { DatabaseHandle } from '../store/database.ts';
import type { AgentRole, Store } from '../store/store.ts';

export interface SeededAgent {
  id: string;
  name: string;
  email: string;
  role: AgentRole;
  skills: string[];
  /** Shown once, at seeding; only its hash is stored. */
  password: string;
}

export interface DemoSeed {
  agents: SeededAgent[];
  bot: { id: string; name: string; apiKey: string };
  conversationIds: string[];
}

/** The three demo businesses' people. Skills match the demo playbooks' handoffs and core DEFAULT_QUEUES. */
const DEMO_AGENTS: Omit<SeededAgent, 'password'>[] = [
  {
    id: 'agent_sam',
    name: 'Sam Rivera',
    email: 'sam@demo.baton.dev',
    role: 'agent',
    skills: ['billing', 'accounts', 'cards', 'technical'],
  },
  { id: 'agent_alex', name: 'Alex Chen', email: 'alex@demo.baton.dev', role: 'agent', skills: ['orders', 'refunds'] },
  { id: 'agent_kim', name: 'Nurse Kim', email: 'kim@demo.baton.dev', role: 'agent', skills: ['clinical'] },
  // S3: the clinic's scheduler sees a referral's status, never its diagnosis (no `clinical` skill).
  { id: 'agent_pat', name: 'Pat Okafor', email: 'pat@demo.baton.dev', role: 'agent', skills: ['scheduling'] },
  {
    id: 'agent_morgan',
    name: 'Morgan Lee',
    email: 'morgan@demo.baton.dev',
    role: 'supervisor',
    skills: ['billing', 'accounts', 'cards', 'technical', 'orders', 'refunds'],
  },
];

const DEMO_BOT = { id: 'bot_demo', name: 'Demo bot integration' };

interface DemoConversation {
  industry: string;
  customerName: string;
  events: EventBodyInput[];
}

const DEMO_CONVERSATIONS: DemoConversation[] = [
  {
    industry: 'ecommerce',
    customerName: 'Jordan Blake',
    events: [
      { type: 'message', author: 'customer', text: 'Hi, where is my order A10493?' },
      { type: 'fact', name: 'order_id', value: 'A10493', source: 1, via: 'extracted' },
      {
        type: 'action',
        name: 'track_shipment',
        actor: 'ai',
        input: { orderId: 'A10493' },
        outcome: 'succeeded',
        result: { status: 'delivered', detail: 'delivered to front door two days ago' },
      },
      {
        type: 'message',
        author: 'ai',
        text: 'Order A10493 shows as delivered to your front door two days ago. Is it not there?',
      },
    ],
  },
  {
    industry: 'finance',
    customerName: 'Dana Reyes',
    events: [
      { type: 'message', author: 'customer', text: "I can't log in to online banking since yesterday." },
      { type: 'message', author: 'ai', text: 'I can help with that. What is the email address on your account?' },
      { type: 'message', author: 'customer', text: 'dana.reyes@example.com' },
      { type: 'fact', name: 'email', value: 'dana.reyes@example.com', source: 3, via: 'extracted' },
      {
        type: 'action',
        name: 'reset_password',
        actor: 'ai',
        outcome: 'failed',
        error: { system: 'identity', code: 'MFA_DEVICE_NOT_REGISTERED', message: 'no MFA device on file' },
      },
      {
        type: 'message',
        author: 'ai',
        text: 'Your sign-in needs a security step I cannot complete here. I am bringing in a colleague who can.',
      },
      {
        type: 'handoff.requested',
        trigger: 'repeated_failure',
        reason: 'password reset failed: MFA device not registered',
        priority: 'normal',
        skills: ['accounts'],
      },
    ],
  },
];

/**
 * Seeds the demo workspace into an empty database: agents with fresh random passwords (shown once,
 * never committed anywhere), a bot API key, and a couple of conversations so the console is not empty.
 * Returns undefined when the database already has agents: seeding never overwrites anything.
 */
export async function seedDemo(deps: { store: Store }): Promise<DemoSeed | undefined> {
  const { store } = deps;
  if ((await store.listAgents()).length > 0) return undefined;
  const agents: SeededAgent[] = [];
  for (const agent of DEMO_AGENTS) {
    const password = randomPassword();
    await store.createAgent({
      ...agent,
      passwordHash: await hashPassword(password),
      languages: ['en'],
      capacity: 3,
      presence: 'offline',
    });
    agents.push({ ...agent, password });
  }
  const apiKey = randomToken(BOT_KEY_PREFIX);
  await store.createApiKey({ keyHash: sha256(apiKey), name: DEMO_BOT.name, botId: DEMO_BOT.id });

  // Written to the store directly, as history: the AI runtime must not answer these customers again.
  const conversationIds: string[] = [];
  for (const demo of DEMO_CONVERSATIONS) {
    const conversation = await store.createConversation({
      id: `c_demo_${randomBytes(6).toString('base64url')}`,
      industry: demo.industry,
      channel: 'demo',
      customerName: demo.customerName,
      customerTokenHash: sha256(randomToken()),
      owner: { kind: 'ai' },
    });
    await store.append(
      conversation.id,
      demo.events.map((event) => EventBody.parse(event)),
    );
    conversationIds.push(conversation.id);
  }
  return { agents, bot: { ...DEMO_BOT, apiKey }, conversationIds };
}

/** The demo agents' sign-in emails, for the banner when the workspace already exists. */
export const DEMO_AGENT_EMAILS = DEMO_AGENTS.map((agent) => ({
  name: agent.name,
  email: agent.email,
  role: agent.role,
}));

/**
 * Gives the demo agents new random passwords (they were shown once, at seeding, and may be lost).
 * Touches only the demo accounts, by id; returns the ones that exist.
 */
export async function resetDemoPasswords(database: DatabaseHandle): Promise<SeededAgent[]> {
  const reset: SeededAgent[] = [];
  for (const agent of DEMO_AGENTS) {
    const password = randomPassword();
    const result = await database.db
      .updateTable('agents')
      .set({ password_hash: await hashPassword(password) })
      .where('id', '=', agent.id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) reset.push({ ...agent, password });
  }
  return reset;
}
