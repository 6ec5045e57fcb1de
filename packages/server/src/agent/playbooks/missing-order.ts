import type { Playbook } from '../playbook.ts';

/** S2: an order marked delivered that never arrived. Find it, track it, check whether the AI may refund. */
export const missingOrder: Playbook = {
  id: 'missing_order',
  label: 'order not received',
  industries: ['ecommerce'],
  signals: {
    phrases: [
      { text: 'where is order', weight: 2 },
      { text: 'never got', weight: 2 },
      { text: 'never arrived', weight: 2 },
      { text: 'never received', weight: 2 },
      { text: 'not arrived', weight: 2 },
      { text: 'not received', weight: 2 },
      { text: 'did not get', weight: 2 },
      { text: 'says delivered', weight: 2 },
      { text: 'missing package', weight: 2 },
      { text: 'missing order', weight: 2 },
      { text: 'where package', weight: 2 },
      { text: 'where parcel', weight: 2 },
      { text: 'not gotten', weight: 2 },
      { text: 'have not got', weight: 2 },
      { text: 'should have arrived', weight: 2 },
      { text: 'shipping status', weight: 1 },
      { text: 'package', weight: 0.5 },
      { text: 'parcel', weight: 0.5 },
      { text: 'tracking', weight: 0.5 },
      { text: 'delivery', weight: 0.5 },
      { text: 'order', weight: 0.25 },
    ],
  },
  steps: [
    {
      kind: 'ask',
      facts: ['order_id'],
      need: 'all',
      prompt:
        "I'm sorry about that; let me look into it. What's the order number? It starts with a letter, like A12345.",
    },
    {
      kind: 'tool',
      tool: 'find_order',
      input: { order_id: 'fact.order_id' },
      replies: {
        succeeded:
          'I found order {{result.find_order.order_id}}: {{result.find_order.item_count}} items, {{result.find_order.total|money}}.',
        failed: "I couldn't find an order with that number. Could you check it? It looks like A12345.",
        stuck: "I still can't find that order. Could you check the number in your confirmation email?",
      },
    },
    {
      kind: 'tool',
      tool: 'track_shipment',
      input: { order_id: 'result.find_order.order_id' },
      replies: {
        succeeded: '{{result.track_shipment.carrier}} tracking says: {{result.track_shipment.summary}}.',
        failed: "I couldn't reach the carrier's tracking just now ({{error.code}}).",
      },
      stopOnFailure: false,
    },
    {
      kind: 'tool',
      tool: 'check_refund_eligibility',
      input: { order_id: 'result.find_order.order_id' },
      replies: {
        succeeded:
          "Since it didn't reach you, I can refund {{result.check_refund_eligibility.amount|money}} or send a replacement. Which would you prefer?",
        blocked:
          "I'm sorry it didn't reach you. A refund of {{result.find_order.total|money}} is above what I'm allowed to approve myself, so I'm passing you to a colleague who can refund or reship it right away. They'll see everything we've checked.",
      },
      escalateOn: ['blocked'],
      handoff: { trigger: 'policy', reason: 'refund above AI limit', priority: 'normal', skills: ['refunds'] },
    },
  ],
};
