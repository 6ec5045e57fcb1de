import type { Brief, BriefFact, BriefStep } from './brief.ts';
import type { ActionEvent, EventBody } from './events.ts';

/**
 * Who may see what of a record. Fields are classified by name, wherever they sit (an action's input or
 * result, a fact, a line of a brief step): clinical data (diagnosis, medication, clinical notes) only
 * for viewers with the `clinical` skill (S3: a scheduler sees a referral's status, a nurse also its
 * diagnosis); identity secrets (passwords, one-time codes, PINs) for no one. Pure: the server applies
 * it at its edge, per viewer, so the log itself keeps everything.
 */

export interface Viewer {
  role?: string;
  skills: readonly string[];
}

export type Sensitivity = 'clinical' | 'secret';

/** What a hidden value reads as. */
export const RESTRICTED = '[restricted]';

export const CLINICAL_SKILL = 'clinical';

const CLINICAL =
  /^(?:diagnos[ie]s|diagnosis_\w+|\w+_diagnosis|icd(?:_?10)?(?:_codes?)?|clinical(?:_\w+)?|\w+_clinical|medications?|medicines?|meds|prescriptions?|dosage|dose|symptoms?|medical_\w+|allerg(?:y|ies)|treatment(?:_\w+)?|lab_results?|test_results?|vitals)$/;

const SECRET =
  /^(?:password|passcode|pin|otp|one_time_code|verification_code|security_code|code|cvv|cvc|ssn|social_security(?:_number)?|secret|api_key|token|access_token|refresh_token|session_token|security_answer|mother_maiden_name)$|_(?:password|passcode|pin|otp|secret|token)$/;

function normalise(name: string): string {
  return name
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .replace(/[\s-]+/g, '_')
    .toLowerCase()
    .trim();
}

/** How sensitive a field is, by its name (`diagnosis`, `clinicalNotes`, `one_time_code`). */
export function classifyField(name: string): Sensitivity | undefined {
  const key = normalise(name);
  if (SECRET.test(key)) return 'secret';
  if (CLINICAL.test(key)) return 'clinical';
  return undefined;
}

export function canSee(viewer: Viewer, sensitivity: Sensitivity | undefined): boolean {
  if (sensitivity === undefined) return true;
  if (sensitivity === 'secret') return false;
  return viewer.skills.includes(CLINICAL_SKILL);
}

function maskValue(value: unknown, viewer: Viewer): unknown {
  if (Array.isArray(value)) return value.map((item) => maskValue(item, viewer));
  if (typeof value === 'object' && value !== null) return maskRecord(value as Record<string, unknown>, viewer);
  return value;
}

function maskRecord(record: Record<string, unknown>, viewer: Viewer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    out[key] = canSee(viewer, classifyField(key)) ? maskValue(value, viewer) : RESTRICTED;
  }
  return out;
}

/** One event as `viewer` may see it; an event with nothing to hide is returned as is. */
export function maskEvent<T extends EventBody>(event: T, viewer: Viewer): T {
  if (event.type === 'action') {
    const action: ActionEvent = event;
    const masked: ActionEvent = { ...action };
    if (action.input) masked.input = maskRecord(action.input, viewer);
    if (action.result) masked.result = maskRecord(action.result, viewer);
    return masked as T;
  }
  if (event.type === 'fact' && !canSee(viewer, classifyField(event.name))) {
    return { ...event, value: RESTRICTED };
  }
  return event;
}

export function maskEvents<T extends EventBody>(events: readonly T[], viewer: Viewer): T[] {
  return events.map((event) => maskEvent(event, viewer));
}

function maskFactForViewer(fact: BriefFact, viewer: Viewer): BriefFact {
  return canSee(viewer, classifyField(fact.name)) ? fact : { ...fact, value: RESTRICTED };
}

/** A detail line reads `label: value` (see step-details.ts); the label is the field's name with spaces. */
function maskDetail(line: string, viewer: Viewer): string {
  const match = /^(\s*)([^:]+):\s?(.*)$/.exec(line);
  if (!match) return line;
  const [, indent = '', label = '', value = ''] = match;
  if (canSee(viewer, classifyField(label))) return line;
  return value ? `${indent}${label}: ${RESTRICTED}` : line;
}

function maskStep(step: BriefStep, viewer: Viewer): BriefStep {
  if (!step.details) return step;
  // A list's entries follow its `label:` header, indented: hide them with it.
  const details: string[] = [];
  let hiding = false;
  for (const line of step.details) {
    const indented = line.startsWith(' ');
    if (indented && hiding) continue;
    hiding = false;
    const header = /^([^:\s][^:]*):$/.exec(line);
    if (header && !canSee(viewer, classifyField(header[1] ?? ''))) {
      details.push(`${header[1]}: ${RESTRICTED}`);
      hiding = true;
      continue;
    }
    details.push(maskDetail(line, viewer));
  }
  return { ...step, details };
}

/** A brief as `viewer` may see it: facts and step details by field name. */
export function maskBrief(brief: Brief, viewer: Viewer): Brief {
  const masked: Brief = {
    ...brief,
    facts: brief.facts.map((fact) => maskFactForViewer(fact, viewer)),
    onFile: brief.onFile.map((fact) => maskFactForViewer(fact, viewer)),
    steps: brief.steps.map((step) => maskStep(step, viewer)),
  };
  if (brief.previousAgents) {
    masked.previousAgents = brief.previousAgents.map((agent) => ({
      ...agent,
      actions: agent.actions.map((step) => maskStep(step, viewer)),
    }));
  }
  return masked;
}

/** The record or its brief as `viewer` may see it. */
export function maskForViewer(brief: Brief, viewer: Viewer): Brief;
export function maskForViewer<T extends EventBody>(events: readonly T[], viewer: Viewer): T[];
export function maskForViewer<T extends EventBody>(subject: Brief | readonly T[], viewer: Viewer): Brief | T[] {
  return Array.isArray(subject) ? maskEvents(subject as readonly T[], viewer) : maskBrief(subject as Brief, viewer);
}
