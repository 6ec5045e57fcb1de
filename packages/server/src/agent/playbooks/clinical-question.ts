import type { Playbook } from '../playbook.ts';

/** A clinical question is never answered by the AI: it goes to the nurse queue at high priority (S3). */
export const clinicalQuestion: Playbook = {
  id: 'clinical_question',
  label: 'clinical question',
  industries: ['healthcare'],
  signals: {
    phrases: [
      { text: 'should i take', weight: 2 },
      { text: 'keep taking', weight: 2 },
      { text: 'stop taking', weight: 2 },
      { text: 'pills', weight: 1 },
      { text: 'medication', weight: 1 },
      { text: 'medicine', weight: 1 },
      { text: 'dose', weight: 1 },
      { text: 'dosage', weight: 1 },
      { text: 'side effects', weight: 2 },
      { text: 'symptoms', weight: 1 },
      { text: 'chest pain', weight: 2 },
      { text: 'blood pressure', weight: 1 },
      { text: 'is it safe', weight: 1 },
    ],
  },
  steps: [
    {
      kind: 'handoff',
      say: "That's an important question, and one for our nurses: I can't give medical advice. I'm connecting you with a nurse now, and they'll see everything we've discussed.",
      handoff: { trigger: 'policy', reason: 'clinical question', priority: 'high', skills: ['clinical'] },
    },
  ],
};
