import { z } from 'zod';
import type { ToolDefinition } from './tools.ts';

const memberId = z.string().regex(/^\d{6,12}$/, 'member_id is the member number, digits only');
const orderId = z
  .string()
  .regex(/^#?[A-Za-z]\d{4,8}$/, 'order_id looks like A10493')
  .transform((value) => value.replace(/^#/, '').toUpperCase());
/** Amounts arrive as numbers from a model and as text ("$184.20") from extracted facts. */
const amount = z.union([
  z.number().positive(),
  z
    .string()
    .regex(/^\$?\d+(\.\d{1,2})?$/, 'amount is a number like 42.50')
    .transform((value) => Number.parseFloat(value.replace('$', ''))),
]);
const text = (max: number) => z.string().trim().min(1).max(max);

function define<Input extends Record<string, unknown>>(tool: ToolDefinition<Input>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

/**
 * The tools both agents use. The names are the connector operations (and the `action` names in the
 * record), so the brief, the guard and a team's HTTP back office all speak the same vocabulary.
 */
export const backOfficeTools: readonly ToolDefinition[] = [
  define({
    name: 'lookup_member',
    description:
      'Find a credit union member by member number, email or phone on file. Returns the member number, name and where a code can be sent.',
    input: z
      .object({
        member_id: memberId.optional(),
        email: z.email().optional(),
        phone: text(40).optional(),
      })
      .refine((value) => value.member_id || value.email || value.phone, 'give member_id, email or phone'),
  }),
  define({
    name: 'send_verification_code',
    description: 'Text a one-time code to the phone on file of a member, to verify their identity.',
    input: z.object({ member_id: memberId }),
    identity: { method: 'one_time_code', pendingOnSuccess: true, subject: (input) => `member_id: ${input.member_id}` },
  }),
  define({
    name: 'verify_identity',
    description: 'Check the one-time code the member read back. Never repeat the code in a reply.',
    input: z.object({ member_id: memberId, code: z.string().regex(/^\d{6}$/, 'code is the 6-digit one-time code') }),
    secretFields: ['code'],
    identity: { method: 'one_time_code', subject: (input) => `member_id: ${input.member_id}` },
  }),
  define({
    name: 'reset_password',
    description: 'Reset the online banking password of a verified member and email them a reset link.',
    input: z.object({ member_id: memberId }),
  }),
  define({
    name: 'check_login',
    description: 'Ask the login service whether the member can sign in now, and the error code if not.',
    input: z.object({ member_id: memberId }),
  }),
  define({
    name: 'block_card',
    description: 'Block a lost or stolen card of a verified member.',
    input: z.object({ member_id: memberId, card_last4: z.string().regex(/^\d{4}$/, 'card_last4 is 4 digits') }),
  }),
  define({
    name: 'find_order',
    description: 'Find an online shop order by its number: items, total, shipping address.',
    input: z.object({ order_id: orderId }),
  }),
  define({
    name: 'track_shipment',
    description: 'Carrier tracking events of an order, newest last.',
    input: z.object({ order_id: orderId }),
  }),
  define({
    name: 'check_refund_eligibility',
    description:
      'Whether the AI may refund an order (amount defaults to the order total). Above the limit it is blocked.',
    input: z.object({ order_id: orderId, amount: amount.optional() }),
  }),
  define({
    name: 'issue_refund',
    description: 'Refund an order, within the self-service limit.',
    input: z.object({ order_id: orderId, amount: amount.optional() }),
  }),
  define({
    name: 'reship_order',
    description: 'Send a replacement for an order that did not arrive.',
    input: z.object({ order_id: orderId }),
  }),
  define({
    name: 'verify_patient',
    description: 'Verify a clinic patient by full name and date of birth. Returns the patient id.',
    input: z.object({ full_name: text(200), date_of_birth: text(40) }),
    identity: { method: 'name_and_date_of_birth', subject: (input) => `full_name: ${input.full_name}` },
  }),
  define({
    name: 'find_referral',
    description: 'Status of a verified patient\u2019s referral to a specialist (never the diagnosis).',
    input: z.object({ patient_id: text(40), specialty: text(60).optional() }),
  }),
  define({
    name: 'list_appointments',
    description: 'Upcoming appointments of a verified patient.',
    input: z.object({ patient_id: text(40) }),
  }),
];
