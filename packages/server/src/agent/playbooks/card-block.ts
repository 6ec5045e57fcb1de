import type { Playbook } from '../playbook.ts';

/** A lost or stolen card: identify, verify by one-time code, block the card. */
export const cardBlock: Playbook = {
  id: 'card_block',
  label: 'card block',
  industries: ['finance'],
  signals: {
    phrases: [
      { text: 'lost card', weight: 2 },
      { text: 'stolen card', weight: 2 },
      { text: 'card stolen', weight: 2 },
      { text: 'card lost', weight: 2 },
      { text: 'block card', weight: 2 },
      { text: 'freeze card', weight: 2 },
      { text: 'cancel card', weight: 2 },
      { text: 'lost wallet', weight: 2 },
      { text: 'cannot find card', weight: 2 },
      { text: 'someone used card', weight: 2 },
      // A card named alone is not enough: "my credit card keeps declining" is not a lost card.
      { text: 'debit card', weight: 0.5 },
      { text: 'credit card', weight: 0.5 },
    ],
  },
  steps: [
    {
      kind: 'ask',
      facts: ['email', 'member_id', 'phone'],
      need: 'any',
      prompt: "Let's block that card right away. What's the email address on your account (or your member number)?",
    },
    {
      kind: 'tool',
      tool: 'lookup_member',
      input: { email: 'fact.email', member_id: 'fact.member_id', phone: 'fact.phone' },
      replies: {
        failed: "I couldn't find a membership with those details. Could you give me your member number?",
        stuck: "I still can't find a membership with those details. Could you give me your member number?",
      },
    },
    {
      kind: 'tool',
      tool: 'send_verification_code',
      input: { member_id: 'result.lookup_member.member_id' },
      skipIfVerified: 'one_time_code',
      replies: {
        succeeded:
          'Thanks, {{first_name}}. I just texted a 6-digit code to the phone on file ({{result.send_verification_code.sent_to}}). What is the code?',
        failed: "I couldn't send a verification code just now ({{error.code}}).",
      },
      escalateOn: ['failed'],
      handoff: {
        trigger: 'repeated_failure',
        reason: 'could not verify before blocking a card',
        priority: 'high',
        skills: ['cards'],
      },
    },
    {
      kind: 'tool',
      tool: 'verify_identity',
      input: { member_id: 'result.lookup_member.member_id' },
      skipIfVerified: 'one_time_code',
      secret: {
        field: 'code',
        pattern: '\\b\\d{6}\\b',
        after: 'send_verification_code',
        prompt: 'Could you type the 6-digit code we texted to your phone?',
      },
      replies: { failed: "That code didn't match. Could you type the 6-digit code again?" },
      stopOnFailure: false,
    },
    {
      kind: 'ask',
      facts: ['card_last4'],
      need: 'all',
      prompt: 'Which card is it? The last 4 digits are enough.',
    },
    {
      kind: 'tool',
      tool: 'block_card',
      input: { member_id: 'result.lookup_member.member_id', card_last4: 'fact.card_last4' },
      replies: {
        succeeded:
          'Done: the card ending {{result.block_card.card_last4}} is blocked, so nobody can use it. A replacement can be ordered whenever you are ready.',
        failed: "I couldn't block that card ({{error.message}}). Could you check the last 4 digits?",
        stuck: 'I still cannot find that card. A colleague will help you block it.',
      },
    },
  ],
};
