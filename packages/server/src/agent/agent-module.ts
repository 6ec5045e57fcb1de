import { readFileSync } from 'node:fs';
import { BatonError, type EscalationConfigInput } from '@baton/core';
import { z } from 'zod';
import type { RouteModule } from '../app/route-module.ts';
import type { Config } from '../config.ts';
import type { Connector } from '../connectors/connector.ts';
import { DemoBackOffice } from '../connectors/demo-back-office.ts';
import { HttpConnector, HttpConnectorConfig } from '../connectors/http-connector.ts';
import { AgentRuntime } from './agent-runtime.ts';
import type { AiAgent } from './ai-agent.ts';
import { backOfficeTools } from './back-office-tools.ts';
import { LlmAgent } from './llm-agent.ts';
import { PlaybookAgent } from './playbook-agent.ts';
import { type ToolDefinition, ToolRegistry } from './tools.ts';

const positiveInt = z.coerce.number().int().positive();

/** Agent settings beyond config.ts: which agent, which back office, how long a turn may take. */
const AgentEnv = z.object({
  /** `playbook` or `llm`; default `llm` when BATON_LLM_BASE_URL and BATON_LLM_MODEL are set. */
  BATON_AGENT: z.enum(['playbook', 'llm']).optional(),
  /** A JSON file in the HttpConnector format; absent means the built-in demo back office. */
  BATON_CONNECTOR_CONFIG: z.string().min(1).optional(),
  BATON_AGENT_TIMEOUT_MS: positiveInt.default(60_000),
  BATON_LLM_TIMEOUT_MS: positiveInt.default(30_000),
  BATON_AGENT_CONCURRENCY: positiveInt.default(8),
});

export interface AgentModuleOptions {
  agent?: AiAgent;
  connector?: Connector;
  tools?: readonly ToolDefinition[];
  escalation?: EscalationConfigInput;
  turnTimeoutMs?: number;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
}

export interface AgentModule extends RouteModule {
  /** The runtime once registered (tests wait on `runtime.idle()`). */
  readonly runtime: AgentRuntime | undefined;
}

function emptyToUndefined(env: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
}

export function createConnector(path: string | undefined): Connector {
  if (!path) return new DemoBackOffice();
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BatonError('invalid_input', `BATON_CONNECTOR_CONFIG: cannot read ${path} as JSON`, { cause: error });
  }
  const parsed = HttpConnectorConfig.safeParse(raw);
  if (!parsed.success) {
    throw new BatonError('invalid_input', `BATON_CONNECTOR_CONFIG ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return new HttpConnector(parsed.data);
}

export function createAgent(config: Config, env: z.infer<typeof AgentEnv>): AiAgent {
  const { baseUrl, model, apiKey } = config.llm;
  const wanted = env.BATON_AGENT ?? (baseUrl && model ? 'llm' : 'playbook');
  if (wanted === 'playbook') return new PlaybookAgent();
  if (!baseUrl || !model) {
    throw new BatonError('invalid_input', 'BATON_AGENT=llm needs BATON_LLM_BASE_URL and BATON_LLM_MODEL');
  }
  return new LlmAgent({ baseUrl, model, timeoutMs: env.BATON_LLM_TIMEOUT_MS, ...(apiKey ? { apiKey } : {}) });
}

/**
 * The AI agent as a server module: builds the agent (playbooks, or a model when configured), the tools
 * over the configured back office, and the runtime that answers customers while the AI owns them.
 */
export function createAgentModule(options: AgentModuleOptions = {}): AgentModule {
  let runtime: AgentRuntime | undefined;
  return {
    name: 'agent',
    get runtime() {
      return runtime;
    },
    register(app, deps) {
      const parsed = AgentEnv.safeParse(emptyToUndefined(options.env ?? process.env));
      if (!parsed.success) {
        throw new BatonError('invalid_input', `invalid agent configuration: ${z.prettifyError(parsed.error)}`);
      }
      const env = parsed.data;
      const connector = options.connector ?? createConnector(env.BATON_CONNECTOR_CONFIG);
      const agent = options.agent ?? createAgent(deps.config, env);
      runtime = new AgentRuntime({
        service: deps.service,
        agent,
        tools: new ToolRegistry(options.tools ?? backOfficeTools, connector),
        logger: deps.logger.child({ module: 'agent' }),
        turnTimeoutMs: options.turnTimeoutMs ?? env.BATON_AGENT_TIMEOUT_MS,
        concurrency: env.BATON_AGENT_CONCURRENCY,
        ...(options.escalation ? { escalation: options.escalation } : {}),
      });
      runtime.start();
      deps.logger.info({ agent: agent.name, connector: connector.name }, 'AI agent ready');
      const started = runtime;
      app.addHook('onClose', () => started.stop());
    },
  };
}

export const agentModule: AgentModule = createAgentModule();
