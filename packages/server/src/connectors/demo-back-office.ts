import { type Connector, type ConnectorCallOptions, type ConnectorResult, failed, succeeded } from './connector.ts';
import {
  type DemoMember,
  type DemoOrder,
  type DemoPatient,
  demoMembers,
  demoOrders,
  demoPatients,
  REFUND_SELF_SERVICE_LIMIT,
} from './demo-back-office-data.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DemoBackOfficeOptions {
  /** The clock tracking events and appointments are relative to; tests pin it. */
  now?: () => Date;
  refundLimit?: number;
}

interface MemberState {
  passwordReset: boolean;
  verificationSent: boolean;
  cardsBlocked: Set<string>;
}

/**
 * A credit union, an online shop and a community clinic behind one connector, seeded with the records
 * in demo-back-office-data.ts. Its state (resets, blocked cards, reships) lives in memory per instance,
 * so every test or demo starts from the same seed.
 */
export class DemoBackOffice implements Connector {
  readonly name = 'demo';
  readonly operations = [
    'lookup_member',
    'send_verification_code',
    'verify_identity',
    'reset_password',
    'check_login',
    'block_card',
    'find_order',
    'track_shipment',
    'check_refund_eligibility',
    'issue_refund',
    'reship_order',
    'verify_patient',
    'find_referral',
    'list_appointments',
  ] as const;

  readonly #now: () => Date;
  readonly #refundLimit: number;
  readonly #members = new Map<string, MemberState>();
  readonly #reships = new Map<string, string>();

  constructor(options: DemoBackOfficeOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#refundLimit = options.refundLimit ?? REFUND_SELF_SERVICE_LIMIT;
  }

  async invoke(
    operation: string,
    input: Record<string, unknown>,
    options: ConnectorCallOptions,
  ): Promise<ConnectorResult> {
    options.signal.throwIfAborted();
    switch (operation) {
      case 'lookup_member':
        return this.#lookupMember(input);
      case 'send_verification_code':
        return this.#withMember(input, (member, state) => {
          state.verificationSent = true;
          return succeeded({ member_id: member.memberId, sent_to: maskPhone(member.phone), channel: 'sms' });
        });
      case 'verify_identity':
        return this.#withMember(input, (member, state) => {
          if (!state.verificationSent) {
            return failed('identity', 'NO_CODE_SENT', 'No verification code was sent to this member yet.');
          }
          if (String(input.code ?? '').replace(/\s/g, '') !== member.demoCode) {
            return failed('identity', 'CODE_MISMATCH', 'The one-time code does not match.');
          }
          return succeeded({ member_id: member.memberId, verified: true, method: 'one_time_code' });
        });
      case 'reset_password':
        return this.#withMember(input, (member, state) => {
          state.passwordReset = true;
          return succeeded({ member_id: member.memberId, reset_link_sent_to: maskEmail(member.email) });
        });
      case 'check_login':
        return this.#withMember(input, (member, state) => {
          if (!state.passwordReset) {
            return failed('auth', 'INVALID_CREDENTIALS', 'The password does not match.');
          }
          if (member.loginErrorAfterReset) {
            return failed('auth', member.loginErrorAfterReset.code, member.loginErrorAfterReset.message);
          }
          return succeeded({ member_id: member.memberId, login: 'ok' });
        });
      case 'block_card':
        return this.#withMember(input, (member, state) => {
          const last4 = String(input.card_last4 ?? '');
          const card = member.cards.find((candidate) => candidate.last4 === last4);
          if (!card) {
            return failed('cards', 'CARD_NOT_FOUND', `No card ending ${last4} for this member.`);
          }
          state.cardsBlocked.add(last4);
          return succeeded({ member_id: member.memberId, card_last4: last4, status: 'blocked' });
        });
      case 'find_order':
        return this.#withOrder(input, (order) => succeeded(describeOrder(order)));
      case 'track_shipment':
        return this.#withOrder(input, (order) => succeeded(this.#tracking(order)));
      case 'check_refund_eligibility':
      case 'issue_refund':
        return this.#withOrder(input, (order) => this.#refund(operation, order, input));
      case 'reship_order':
        return this.#withOrder(input, (order) => {
          const reshipId = this.#reships.get(order.orderId) ?? `${order.orderId}-R1`;
          this.#reships.set(order.orderId, reshipId);
          return succeeded({ order_id: order.orderId, reship_order_id: reshipId, ship_to: order.shippingAddress });
        });
      case 'verify_patient':
        return this.#verifyPatient(input);
      case 'find_referral':
        return this.#withPatient(input, (patient) => {
          const specialty = typeof input.specialty === 'string' ? input.specialty.toLowerCase() : undefined;
          const referral = patient.referrals.find((candidate) => !specialty || candidate.specialty === specialty);
          if (!referral) {
            return failed(
              'referrals',
              'REFERRAL_NOT_FOUND',
              `No ${specialty ?? ''} referral on file.`.replace('  ', ' '),
            );
          }
          // The diagnosis stays in the clinic's system: the AI and schedulers only need the status.
          return succeeded({
            referral_id: referral.referralId,
            specialty: referral.specialty,
            status: referral.status,
            sent_on: isoDate(new Date(this.#now().getTime() - referral.sentDaysAgo * DAY_MS)),
          });
        });
      case 'list_appointments':
        return this.#withPatient(input, (patient) =>
          succeeded({
            appointments: patient.appointments.map((appointment) => ({
              appointment_id: appointment.appointmentId,
              date: isoDate(new Date(this.#now().getTime() + appointment.inDays * DAY_MS)),
              clinician: appointment.clinician,
              kind: appointment.kind,
            })),
          }),
        );
      default:
        return failed('demo', 'UNKNOWN_OPERATION', `The demo back office has no operation "${operation}".`);
    }
  }

  /** The private part of a referral, for views that are allowed to see it (a nurse), never for the AI. */
  referralDiagnosis(referralId: string): string | undefined {
    for (const patient of demoPatients) {
      const referral = patient.referrals.find((candidate) => candidate.referralId === referralId);
      if (referral) return referral.diagnosis;
    }
    return undefined;
  }

  #lookupMember(input: Record<string, unknown>): ConnectorResult {
    const member = findMember(input);
    if (!member) return failed('members', 'MEMBER_NOT_FOUND', 'No member matches what was given.');
    return succeeded({
      member_id: member.memberId,
      full_name: member.fullName,
      email_hint: maskEmail(member.email),
      phone_on_file: maskPhone(member.phone),
      cards: member.cards.map((card) => card.last4),
    });
  }

  #withMember(
    input: Record<string, unknown>,
    run: (member: DemoMember, state: MemberState) => ConnectorResult,
  ): ConnectorResult {
    const member = findMember(input);
    if (!member) return failed('members', 'MEMBER_NOT_FOUND', 'No member matches what was given.');
    let state = this.#members.get(member.memberId);
    if (!state) {
      state = { passwordReset: false, verificationSent: false, cardsBlocked: new Set() };
      this.#members.set(member.memberId, state);
    }
    return run(member, state);
  }

  #withOrder(input: Record<string, unknown>, run: (order: DemoOrder) => ConnectorResult): ConnectorResult {
    const orderId = String(input.order_id ?? '')
      .trim()
      .replace(/^#/, '')
      .toUpperCase();
    const order = demoOrders.find((candidate) => candidate.orderId === orderId);
    if (!order) return failed('orders', 'ORDER_NOT_FOUND', `No order ${orderId || '(none given)'}.`);
    return run(order);
  }

  #tracking(order: DemoOrder): Record<string, unknown> {
    const now = this.#now().getTime();
    const events = order.tracking.map((event) => ({
      at: new Date(now - event.daysAgo * DAY_MS).toISOString(),
      status: event.status,
      description: event.description,
      when: daysAgoText(event.daysAgo),
    }));
    const last = events.at(-1);
    return {
      order_id: order.orderId,
      carrier: order.carrier,
      tracking_number: order.trackingNumber,
      status: last?.status ?? 'unknown',
      summary: last ? `${last.description}, ${last.when}` : 'No tracking events yet',
      events,
    };
  }

  #refund(operation: string, order: DemoOrder, input: Record<string, unknown>): ConnectorResult {
    const requested = typeof input.amount === 'number' ? input.amount : Number.parseFloat(String(input.amount ?? ''));
    const amount = Number.isFinite(requested) && requested > 0 ? requested : order.total;
    const data = { order_id: order.orderId, amount, limit: this.#refundLimit, currency: 'USD' };
    if (amount > order.total) {
      return failed(
        'refunds',
        'REFUND_EXCEEDS_ORDER',
        `A refund cannot exceed the order total of ${money(order.total)}.`,
      );
    }
    if (amount > this.#refundLimit) {
      return failed(
        'refunds',
        'REFUND_LIMIT',
        `Refund above AI limit: ${money(amount)} is over the ${money(this.#refundLimit)} self-service limit, a person must approve it.`,
        'blocked',
        { ...data, eligible_with_approval: true },
      );
    }
    if (operation === 'check_refund_eligibility') return succeeded({ ...data, eligible: true });
    return succeeded({ ...data, refund_id: `RF-${order.orderId}`, status: 'issued' });
  }

  #verifyPatient(input: Record<string, unknown>): ConnectorResult {
    const name = normalizeName(String(input.full_name ?? ''));
    const dateOfBirth = parseDate(String(input.date_of_birth ?? ''));
    const patient = demoPatients.find(
      (candidate) => normalizeName(candidate.fullName) === name && candidate.dateOfBirth === dateOfBirth,
    );
    if (!patient) {
      return failed('patients', 'PATIENT_NOT_VERIFIED', 'No patient matches that name and date of birth.');
    }
    return succeeded({ patient_id: patient.patientId, full_name: patient.fullName, verified: true });
  }

  #withPatient(input: Record<string, unknown>, run: (patient: DemoPatient) => ConnectorResult): ConnectorResult {
    const patient = demoPatients.find((candidate) => candidate.patientId === input.patient_id);
    if (!patient) return failed('patients', 'PATIENT_NOT_FOUND', 'No patient with that id.');
    return run(patient);
  }
}

function findMember(input: Record<string, unknown>): DemoMember | undefined {
  const memberId = stringField(input, 'member_id') ?? stringField(input, 'account_id');
  const email = stringField(input, 'email')?.toLowerCase();
  const phone = digits(stringField(input, 'phone'));
  const name = stringField(input, 'full_name');
  return demoMembers.find(
    (member) =>
      (memberId !== undefined && digits(memberId) === member.memberId) ||
      (email !== undefined && member.email === email) ||
      (phone !== undefined && phone.length >= 10 && digits(member.phone)?.endsWith(phone.slice(-10))) ||
      (name !== undefined &&
        memberId === undefined &&
        !email &&
        !phone &&
        normalizeName(name) === normalizeName(member.fullName)),
  );
}

function stringField(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function digits(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.replace(/\D/g, '');
}

function describeOrder(order: DemoOrder): Record<string, unknown> {
  return {
    order_id: order.orderId,
    customer_name: order.customerName,
    items: order.items.map((item) => ({ name: item.name, quantity: item.quantity, price: item.price })),
    item_count: order.items.reduce((count, item) => count + item.quantity, 0),
    total: order.total,
    currency: 'USD',
    shipping_address: order.shippingAddress,
    carrier: order.carrier,
  };
}

export function normalizeName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z ]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Dates as people write them: 1962-03-03, 03/03/1962, March 3 1962, 3 March 1962. US order for m/d/y. */
export function parseDate(text: string): string | undefined {
  const value = text.trim().toLowerCase();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})/.exec(value);
  if (iso) return toIso(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const numeric = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$/.exec(value);
  if (numeric) {
    const year = Number(numeric[3]);
    return toIso(year < 100 ? 1900 + year : year, Number(numeric[1]), Number(numeric[2]));
  }
  const monthFirst = /^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/.exec(value);
  if (monthFirst) return toIso(Number(monthFirst[3]), monthIndex(monthFirst[1]), Number(monthFirst[2]));
  const dayFirst = /^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{4})$/.exec(value);
  if (dayFirst) return toIso(Number(dayFirst[3]), monthIndex(dayFirst[2]), Number(dayFirst[1]));
  return undefined;
}

function monthIndex(name: string | undefined): number {
  return MONTHS.indexOf((name ?? '').slice(0, 3)) + 1;
}

function toIso(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function isoDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function daysAgoText(days: number): string {
  if (days === 0) return 'today';
  if (days === 1) return 'yesterday';
  return `${days} days ago`;
}

export function money(amount: number): string {
  return `$${amount.toFixed(2)}`;
}

export function maskPhone(phone: string): string {
  const all = phone.replace(/\D/g, '');
  return `***-***-${all.slice(-4)}`;
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
