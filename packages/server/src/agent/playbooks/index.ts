import type { Playbook } from '../playbook.ts';
import { accountAccess } from './account-access.ts';
import { cardBlock } from './card-block.ts';
import { clinicalQuestion } from './clinical-question.ts';
import { fallback } from './fallback.ts';
import { greeting, thanks } from './greeting.ts';
import { missingOrder } from './missing-order.ts';
import { referralStatus } from './referral-status.ts';
import { refund } from './refund.ts';

/** The built-in playbooks, task playbooks first. `fallback` must stay last: it answers what nothing else did. */
export const builtInPlaybooks: readonly Playbook[] = [
  accountAccess,
  cardBlock,
  missingOrder,
  refund,
  referralStatus,
  clinicalQuestion,
  thanks,
  greeting,
  fallback,
];

export { accountAccess, cardBlock, clinicalQuestion, fallback, greeting, missingOrder, referralStatus, refund, thanks };
