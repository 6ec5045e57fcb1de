import { findSecrets } from './redaction.ts';

/**
 * What a back-office result tells the agent, as short lines: `total: 184.2 USD`, `items: 3`,
 * `Delivered, left at front door (2 days ago)`. Derived from the shape of the result, not a table of
 * tools, so a team's own connector gets the same treatment. Secrets, tokens and large blobs stay out:
 * the brief is read at a glance and copied into tickets.
 */

const MAX_DETAILS = 12;
const MAX_VALUE = 160;
const MAX_EVENTS = 5;

/** Keys whose values are never shown, whatever they hold. */
const SECRET_KEY =
  /(?:^|_)(?:pass(?:word|code)?|pin|otp|code|token|secret|api_?key|key|cvv|cvc|ssn|social_security|card_number|pan|session|cookie|signature|hash|credentials?)(?:_|$)/i;

/** Keys that only repeat what the step or another line already says. */
const SKIP_KEY = /^(?:currency|verified|ok|success|eligible_with_approval)$/i;

/** Keys of an event-like entry, in the order they read best. */
const EVENT_TEXT_KEYS = ['description', 'status', 'message', 'text', 'summary', 'name', 'title'] as const;
const EVENT_WHEN_KEYS = ['when', 'at', 'date', 'time', 'timestamp'] as const;

function label(key: string): string {
  return key.replace(/_/g, ' ').trim();
}

function clip(text: string): string {
  const single = text.replace(/\s+/g, ' ').trim();
  return single.length > MAX_VALUE ? `${single.slice(0, MAX_VALUE - 1)}…` : single;
}

/** A value the detector recognises as a secret (a code, a card number) is dropped, not masked. */
function safeText(text: string): string | undefined {
  if (findSecrets(text).length > 0) return undefined;
  return clip(text);
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() ? safeText(value) : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One entry of an array of records: its text and, when there is one, when it happened. */
function entryLine(entry: Record<string, unknown>): string | undefined {
  const text = EVENT_TEXT_KEYS.map((key) => scalar(entry[key])).find((value) => value !== undefined);
  if (text !== undefined) {
    const when = EVENT_WHEN_KEYS.map((key) => scalar(entry[key])).find((value) => value !== undefined);
    const quantity = scalar(entry.quantity);
    const count = quantity !== undefined && quantity !== '1' ? `${quantity} × ` : '';
    return when ? `${count}${text} (${when})` : `${count}${text}`;
  }
  // No text-like field: the short scalars, `key value` pairs.
  const parts: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (SECRET_KEY.test(key)) continue;
    const shown = scalar(value);
    if (shown !== undefined) parts.push(`${label(key)} ${shown}`);
    if (parts.length >= 4) break;
  }
  return parts.length ? clip(parts.join(', ')) : undefined;
}

function arrayLines(key: string, items: readonly unknown[]): string[] {
  if (items.length === 0) return [];
  const scalars = items.map(scalar);
  if (scalars.every((value) => value !== undefined)) {
    return [clip(`${label(key)}: ${scalars.join(', ')}`)];
  }
  const records = items.filter(isRecord);
  if (records.length === 0) return [];
  // A list that reads like a timeline (tracking, history) is shown newest first, a few entries.
  const timeline = records.some((entry) => EVENT_WHEN_KEYS.some((when) => entry[when] !== undefined));
  const chosen = timeline ? [...records].reverse().slice(0, MAX_EVENTS) : records.slice(0, MAX_EVENTS);
  const lines = chosen.map(entryLine).filter((line): line is string => line !== undefined);
  if (lines.length === 0) return [];
  const more = records.length > chosen.length ? ` (+${records.length - chosen.length} more)` : '';
  return [`${label(key)}${more}:`, ...lines.map((line) => `  ${line}`)];
}

/**
 * Short lines describing an action's result (and input, for what the result leaves out). Scalars first,
 * as `key: value`; arrays of records as a compact list; nested objects one level deep.
 */
export function resultDetails(result: Record<string, unknown> | undefined): string[] {
  if (!result) return [];
  const lines: string[] = [];
  const lists: string[] = [];
  const currency = typeof result.currency === 'string' ? result.currency : undefined;
  for (const [key, value] of Object.entries(result)) {
    if (SECRET_KEY.test(key) || SKIP_KEY.test(key)) continue;
    if (Array.isArray(value)) {
      lists.push(...arrayLines(key, value));
      continue;
    }
    if (isRecord(value)) {
      const inner = Object.entries(value)
        .filter(([innerKey]) => !SECRET_KEY.test(innerKey))
        .map(([innerKey, innerValue]) => {
          const shown = scalar(innerValue);
          return shown === undefined ? undefined : `${label(innerKey)} ${shown}`;
        })
        .filter((part): part is string => part !== undefined)
        .slice(0, 4);
      if (inner.length) lines.push(clip(`${label(key)}: ${inner.join(', ')}`));
      continue;
    }
    const shown = scalar(value);
    if (shown === undefined) continue;
    const money = currency && typeof value === 'number' && /amount|total|price|limit|balance|fee/i.test(key);
    lines.push(`${label(key)}: ${shown}${money ? ` ${currency}` : ''}`);
  }
  return [...lines, ...lists].slice(0, MAX_DETAILS);
}
