import type { HandoffTrigger, Priority } from '@baton/core';
import type { IntentSignals } from './intent-recognizer.ts';

/**
 * A playbook is data: what the customer says that starts it, and the steps that serve them. The
 * engine (playbook-agent.ts) replays the steps against the record on every turn, so progress lives in
 * the log: a step whose tool already succeeded is not run again, a fact already known is not asked for.
 *
 * Values in `input` and templates are paths:
 *   fact.<name>               a fact the context engine knows (email, order_id, full_name…)
 *   result.<tool>.<field>     a field of that tool's latest successful result
 *   error.code / error.message  the error of the call just made (in `replies`)
 *   first_name                the customer's first name, from facts or a back-office record
 * In templates write `{{path}}`, or `{{path|money}}` for an amount.
 */
export interface Playbook {
  id: string;
  /** Short label, used as the handoff reason when this playbook escalates. */
  label: string;
  industries?: readonly string[];
  signals: IntentSignals;
  /**
   * Reactive playbooks (greeting, fallback) answer only the latest message and keep no progress; they
   * run when no task playbook is active.
   */
  reactive?: boolean;
  /**
   * A reactive playbook that answers only a message saying little besides its phrases: "Hi! My parcel never
   * came" is about the parcel, and answering the hello would make the customer say it again.
   */
  alone?: boolean;
  steps: readonly PlaybookStep[];
}

export type PlaybookStep = AskStep | ToolStep | AwaitStep | SayStep | HandoffStep;

/** Asks for facts the engine does not know yet. `any`: one of them is enough; `all`: each is needed. */
export interface AskStep {
  kind: 'ask';
  facts: readonly string[];
  need: 'any' | 'all';
  /** Said when nothing is known yet. */
  prompt: string;
  /** For `all`: how to ask for each missing fact when some are already known. */
  prompts?: Readonly<Record<string, string>>;
}

export interface ToolStep {
  kind: 'tool';
  tool: string;
  /** Input field → path (see above). Fields whose path has no value are left out. */
  input: Readonly<Record<string, string>>;
  /** Skip this step when an identity check with this method already succeeded. */
  skipIfVerified?: string;
  /** A secret the customer types (a one-time code): read from their latest message, never stored as a fact. */
  secret?: {
    field: string;
    pattern: string;
    /** Only messages after this tool's latest call count (the code was sent then). */
    after: string;
    prompt: string;
  };
  /** Replies after the call, by outcome; `stuck` is said when a failed call cannot be retried with new input. */
  replies: {
    succeeded?: string;
    failed?: string;
    blocked?: string;
    stuck?: string;
  };
  /** Ask for a human when the call ends in one of these outcomes. The policy may refine the request. */
  escalateOn?: readonly ('failed' | 'blocked')[];
  handoff?: PlaybookHandoff;
  /** When the call fails, the playbook ends here (no further steps). Default true. */
  stopOnFailure?: boolean;
}

/** Waits for the customer to write again after a tool succeeded (e.g. "try the reset link, then tell me"). */
export interface AwaitStep {
  kind: 'await';
  after: string;
}

export interface SayStep {
  kind: 'say';
  text: string;
}

export interface HandoffStep {
  kind: 'handoff';
  say: string;
  handoff: PlaybookHandoff;
}

export interface PlaybookHandoff {
  trigger: HandoffTrigger;
  reason: string;
  priority?: Priority;
  skills?: readonly string[];
}
