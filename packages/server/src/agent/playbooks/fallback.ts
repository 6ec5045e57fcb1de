import type { Playbook } from '../playbook.ts';

/** When nothing matched: ask once more in other words. The policy hands off when it keeps happening. */
export const fallback: Playbook = {
  id: 'fallback',
  label: 'not understood',
  reactive: true,
  signals: { phrases: [] },
  steps: [
    {
      kind: 'say',
      text: "I'm sorry, I didn't quite understand. Could you tell me in a few words what you need? For example: signing in, a card, an order, a refund, or a referral.",
    },
  ],
};
