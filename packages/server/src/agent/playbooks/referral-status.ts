import type { Playbook } from '../playbook.ts';

/** S3: a patient asks about a referral. Verify by name and date of birth, then read its status (never the diagnosis). */
export const referralStatus: Playbook = {
  id: 'referral_status',
  label: 'referral status',
  industries: ['healthcare'],
  signals: {
    phrases: [
      { text: 'referral', weight: 2 },
      { text: 'referred', weight: 2 },
      { text: 'specialist', weight: 1 },
      { text: 'cardiology', weight: 1 },
      { text: 'went through', weight: 0.5 },
      { text: 'appointment', weight: 0.5 },
    ],
  },
  steps: [
    {
      kind: 'ask',
      facts: ['full_name', 'date_of_birth'],
      need: 'all',
      prompt: 'I can check that for you. First, to protect your records: what is your full name and date of birth?',
      prompts: {
        full_name: 'Thanks. And what is your full name, as it appears on your records?',
        date_of_birth: 'Thanks. And what is your date of birth?',
      },
    },
    {
      kind: 'tool',
      tool: 'verify_patient',
      input: { full_name: 'fact.full_name', date_of_birth: 'fact.date_of_birth' },
      replies: {
        failed:
          "I couldn't match that name and date of birth to a patient record. Could you check both, exactly as they appear on your records?",
        stuck: "I still can't match those details to a record. A colleague at the front desk can help.",
      },
    },
    {
      kind: 'tool',
      tool: 'find_referral',
      input: { patient_id: 'result.verify_patient.patient_id' },
      replies: {
        succeeded:
          "Thank you, {{first_name}}, you're verified. Your {{result.find_referral.specialty}} referral was sent on {{result.find_referral.sent_on}} and its status is: {{result.find_referral.status}}. The specialist's office will contact you to schedule.",
        failed: "I couldn't find a referral on your record ({{error.message}}).",
      },
    },
  ],
};
