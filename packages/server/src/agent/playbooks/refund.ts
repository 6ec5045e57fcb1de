import type { Playbook } from '../playbook.ts';

/** A refund the customer asks for outright; within the limit the AI refunds, above it a person does. */
export const refund: Playbook = {
  id: 'refund',
  label: 'refund',
  industries: ['ecommerce'],
  signals: {
    phrases: [
      { text: 'refund', weight: 2 },
      { text: 'money back', weight: 2 },
      { text: 'return order', weight: 1 },
      { text: 'want to return', weight: 2 },
      { text: 'status of return', weight: 2 },
      { text: 'charged twice', weight: 2 },
    ],
  },
  steps: [
    {
      kind: 'ask',
      facts: ['order_id'],
      need: 'all',
      prompt: 'I can help with a refund. What is the order number? It starts with a letter, like A12345.',
    },
    {
      kind: 'tool',
      tool: 'find_order',
      input: { order_id: 'fact.order_id' },
      replies: {
        failed: "I couldn't find an order with that number. Could you check it?",
        stuck: "I still can't find that order. Could you check the number in your confirmation email?",
      },
    },
    {
      kind: 'tool',
      tool: 'check_refund_eligibility',
      input: { order_id: 'result.find_order.order_id', amount: 'fact.amount' },
      replies: {
        blocked:
          "A refund of {{result.check_refund_eligibility.amount|money}} is above what I'm allowed to approve myself, so I'm passing you to a colleague who can approve it. They'll see everything we've checked.",
      },
      escalateOn: ['blocked'],
      handoff: { trigger: 'policy', reason: 'refund above AI limit', skills: ['refunds'] },
    },
    {
      kind: 'tool',
      tool: 'issue_refund',
      input: { order_id: 'result.find_order.order_id', amount: 'fact.amount' },
      replies: {
        succeeded:
          'Done: I refunded {{result.issue_refund.amount|money}} for order {{result.find_order.order_id}} (refund {{result.issue_refund.refund_id}}). It shows on your statement in 3 to 5 business days.',
        failed: "The refund didn't go through ({{error.code}}).",
        blocked: 'That refund needs a colleague to approve it, so I am passing you to one now.',
      },
      escalateOn: ['failed', 'blocked'],
      handoff: { trigger: 'policy', reason: 'refund could not be issued by the AI', skills: ['refunds'] },
    },
  ],
};
