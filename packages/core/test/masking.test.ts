import { describe, expect, it } from 'vitest';
import {
  buildBrief,
  classifyField,
  type EventBody,
  maskForViewer,
  RESTRICTED,
  renderBrief,
  type Viewer,
} from '../src/index.ts';

const scheduler: Viewer = { role: 'agent', skills: ['scheduling'] };
const nurse: Viewer = { role: 'agent', skills: ['clinical'] };

/** S3 as a clinic's system could record it: the referral with its diagnosis, a clinical fact. */
const S3: EventBody[] = [
  { type: 'message', author: 'customer', text: 'Did my cardiology referral go through?' },
  {
    type: 'action',
    name: 'verify_patient',
    actor: 'bot',
    input: { full_name: 'Maria Lopez', date_of_birth: '1961-03-14', security_answer: 'Rex' },
    outcome: 'succeeded',
    result: { patient_id: 'P-2231', verified: true },
  },
  {
    type: 'action',
    name: 'find_referral',
    actor: 'bot',
    input: { patient_id: 'P-2231', specialty: 'cardiology' },
    outcome: 'succeeded',
    result: {
      referral_id: 'R-88',
      specialty: 'cardiology',
      status: 'sent, awaiting specialist scheduling',
      diagnosis: 'Stage 2 hypertension',
      medications: [{ name: 'Lisinopril', dose: '10 mg' }],
    },
  },
  { type: 'fact', name: 'clinical_notes', value: 'BP 162/98 at last visit', via: 'bot' },
  { type: 'message', author: 'customer', text: 'should I keep taking my blood pressure pills until then?' },
  { type: 'handoff.requested', trigger: 'policy', priority: 'high', skills: ['clinical'] },
];

describe('maskForViewer (S3 privacy)', () => {
  it('classifies fields by name', () => {
    expect(classifyField('diagnosis')).toBe('clinical');
    expect(classifyField('clinicalNotes')).toBe('clinical');
    expect(classifyField('medications')).toBe('clinical');
    expect(classifyField('one_time_code')).toBe('secret');
    expect(classifyField('new_password')).toBe('secret');
    expect(classifyField('status')).toBeUndefined();
    expect(classifyField('zip_code')).toBeUndefined();
  });

  it('a scheduler sees the referral status but not its diagnosis, in the events', () => {
    const events = maskForViewer(S3, scheduler);
    const referral = events[2];
    expect(referral?.type === 'action' && referral.result).toEqual({
      referral_id: 'R-88',
      specialty: 'cardiology',
      status: 'sent, awaiting specialist scheduling',
      diagnosis: RESTRICTED,
      medications: RESTRICTED,
    });
    expect(events[3]).toMatchObject({ type: 'fact', name: 'clinical_notes', value: RESTRICTED });
    expect(JSON.stringify(events)).not.toMatch(/hypertension|Lisinopril|162\/98|Rex/);
    // The record itself is untouched.
    expect(JSON.stringify(S3)).toContain('Stage 2 hypertension');
  });

  it('a nurse sees both; identity secrets are hidden from everyone', () => {
    const events = maskForViewer(S3, nurse);
    const text = JSON.stringify(events);
    expect(text).toContain('Stage 2 hypertension');
    expect(text).toContain('Lisinopril');
    expect(text).toContain('sent, awaiting specialist scheduling');
    expect(text).not.toContain('Rex');
    expect(events[1]?.type === 'action' && events[1].input?.security_answer).toBe(RESTRICTED);
  });

  it('the brief: the scheduler reads the status line, the diagnosis line is restricted; a nurse reads both', () => {
    const brief = buildBrief(S3);
    const forScheduler = maskForViewer(brief, scheduler);
    const details = forScheduler.steps.find((step) => step.action === 'find_referral')?.details ?? [];
    expect(details).toContain('status: sent, awaiting specialist scheduling');
    expect(details).toContain(`diagnosis: ${RESTRICTED}`);
    expect(details).toContain(`medications: ${RESTRICTED}`);
    expect(JSON.stringify(forScheduler)).not.toMatch(/hypertension|Lisinopril/);
    expect(renderBrief(forScheduler)).not.toContain('hypertension');

    const forNurse = maskForViewer(brief, nurse);
    const nurseDetails = forNurse.steps.find((step) => step.action === 'find_referral')?.details ?? [];
    expect(nurseDetails).toContain('diagnosis: Stage 2 hypertension');
    expect(nurseDetails).toContain('status: sent, awaiting specialist scheduling');
    expect(nurseDetails.join('\n')).toContain('Lisinopril');
  });

  it('a clinical fact in the brief is restricted by its name', () => {
    const brief = buildBrief(S3);
    const withFact = {
      ...brief,
      onFile: [{ name: 'diagnosis', value: 'Stage 2 hypertension', source: 2, via: 'bot' }],
    };
    expect(maskForViewer(withFact, scheduler).onFile[0]?.value).toBe(RESTRICTED);
    expect(maskForViewer(withFact, nurse).onFile[0]?.value).toBe('Stage 2 hypertension');
  });
});
