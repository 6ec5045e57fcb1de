import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { backOfficeTools } from '../src/agent/back-office-tools.ts';
import { ToolRegistry } from '../src/agent/tools.ts';
import { callDeadline } from '../src/connectors/call-deadline.ts';
import type { Connector } from '../src/connectors/connector.ts';
import { DemoBackOffice } from '../src/connectors/demo-back-office.ts';
import { demoMembers } from '../src/connectors/demo-back-office-data.ts';

const context = () => ({ conversationId: 'c_test', signal: new AbortController().signal });
const dana = demoMembers[0]!;

describe('ToolRegistry over the demo back office', () => {
  it('records a call as an action event with its result', async () => {
    const tools = new ToolRegistry(backOfficeTools, new DemoBackOffice());
    const call = await tools.call('find_order', { order_id: 'a10493' }, context());
    expect(call.outcome).toBe('succeeded');
    expect(call.events).toEqual([
      expect.objectContaining({
        type: 'action',
        name: 'find_order',
        actor: 'ai',
        input: { order_id: 'A10493' },
        outcome: 'succeeded',
        result: expect.objectContaining({ total: 184.2, item_count: 3 }),
      }),
    ]);
  });

  it('turns invalid arguments into a failed action with a validation error, not a throw', async () => {
    const tools = new ToolRegistry(backOfficeTools, new DemoBackOffice());
    const call = await tools.call('find_order', { order: 'A10493' }, context());
    expect(call.outcome).toBe('failed');
    expect(call.error).toMatchObject({ system: 'baton', code: 'INVALID_INPUT' });
    expect(call.error?.message).toContain('order_id');
    expect(call.events[0]).toMatchObject({ type: 'action', outcome: 'failed', input: { order: 'A10493' } });

    const unknown = await tools.call('launch_rocket', {}, context());
    expect(unknown.error?.code).toBe('UNKNOWN_TOOL');
  });

  it('masks one-time codes in the record and writes identity events', async () => {
    const tools = new ToolRegistry(backOfficeTools, new DemoBackOffice());
    const sent = await tools.call('send_verification_code', { member_id: dana.memberId }, context());
    expect(sent.events[1]).toMatchObject({ type: 'identity', method: 'one_time_code', result: 'pending' });

    const wrong = await tools.call('verify_identity', { member_id: dana.memberId, code: '000000' }, context());
    expect(wrong.outcome).toBe('failed');
    expect(wrong.error?.code).toBe('CODE_MISMATCH');
    expect(wrong.events[1]).toMatchObject({ type: 'identity', result: 'failed' });

    const right = await tools.call('verify_identity', { member_id: dana.memberId, code: dana.demoCode }, context());
    expect(right.outcome).toBe('succeeded');
    expect(JSON.stringify(right.events)).not.toContain(dana.demoCode);
    expect(right.events[0]).toMatchObject({ input: { member_id: dana.memberId, code: '••••••' } });
    expect(right.events[1]).toMatchObject({
      type: 'identity',
      method: 'one_time_code',
      result: 'verified',
      subject: `member_id: ${dana.memberId}`,
    });
    // A code typed under another argument name is masked too, even when the input is invalid.
    const invented = await tools.call('verify_identity', { member: dana.memberId, otp: '482913' }, context());
    expect(JSON.stringify(invented.events)).not.toContain('482913');
  });

  it('runs S1, S2 and S3 back-office stories with real-looking codes', async () => {
    const tools = new ToolRegistry(backOfficeTools, new DemoBackOffice());
    const before = await tools.call('check_login', { member_id: dana.memberId }, context());
    expect(before.error?.code).toBe('INVALID_CREDENTIALS');
    await tools.call('reset_password', { member_id: dana.memberId }, context());
    const after = await tools.call('check_login', { member_id: dana.memberId }, context());
    expect(after.error).toMatchObject({ system: 'auth', code: 'MFA_DEVICE_NOT_REGISTERED' });

    const tracking = await tools.call('track_shipment', { order_id: 'A10493' }, context());
    expect(tracking.result?.summary).toBe('Delivered, left at front door, 2 days ago');
    const refund = await tools.call('check_refund_eligibility', { order_id: 'A10493' }, context());
    expect(refund.outcome).toBe('blocked');
    expect(refund.error).toMatchObject({ system: 'refunds', code: 'REFUND_LIMIT' });
    const small = await tools.call('issue_refund', { order_id: 'A10512', amount: '$20.00' }, context());
    expect(small).toMatchObject({ outcome: 'succeeded', result: { amount: 20, status: 'issued' } });

    const patient = await tools.call(
      'verify_patient',
      { full_name: 'maria gonzalez', date_of_birth: 'March 3, 1962' },
      context(),
    );
    expect(patient.outcome).toBe('succeeded');
    expect(patient.events[1]).toMatchObject({ type: 'identity', method: 'name_and_date_of_birth', result: 'verified' });
    const referral = await tools.call('find_referral', { patient_id: patient.result?.patient_id }, context());
    expect(referral.result).toMatchObject({ specialty: 'cardiology', status: 'sent, awaiting specialist scheduling' });
    expect(JSON.stringify(referral.result)).not.toMatch(/hypertension/i);
  });

  it('records a hung connector as a failed action with code TIMEOUT', async () => {
    const hanging: Connector = {
      name: 'slow-backoffice',
      operations: ['find_order'],
      invoke: (_operation, _input, options) =>
        new Promise((_resolve, reject) => {
          options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true });
        }),
    };
    const tools = new ToolRegistry(backOfficeTools, hanging, { timeoutMs: 50 });
    expect(tools.list().map((tool) => tool.name)).toEqual(['find_order']);
    const call = await tools.call('find_order', { order_id: 'A10493' }, context());
    expect(call).toMatchObject({ outcome: 'failed', error: { system: 'slow-backoffice', code: 'TIMEOUT' } });
  });

  it('offers each tool input as JSON Schema', () => {
    const tools = new ToolRegistry(backOfficeTools, new DemoBackOffice());
    expect(tools.jsonSchema('verify_identity')).toMatchObject({
      type: 'object',
      properties: { member_id: { type: 'string' }, code: { type: 'string' } },
      required: ['member_id', 'code'],
    });
  });
});

describe('callDeadline', () => {
  it("aborts with the turn's reason when the turn is aborted", () => {
    const turn = new AbortController();
    const deadline = callDeadline(turn.signal, 10_000);
    const reason = new Error('turn stopped');
    turn.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    expect(deadline.timedOut).toBe(false);
    deadline.release();
  });

  it('aborts with a TimeoutError once its time is up, and says so', async () => {
    const turn = new AbortController();
    const deadline = callDeadline(turn.signal, 20);
    await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }));
    expect(deadline.timedOut).toBe(true);
    expect((deadline.signal.reason as Error).name).toBe('TimeoutError');
    expect(turn.signal.aborted).toBe(false);
    deadline.release();
  });

  it('leaves nothing behind once released: no listener on the turn, no timer to fire', async () => {
    const turn = new AbortController();
    const deadline = callDeadline(turn.signal, 20);
    expect(getEventListeners(turn.signal, 'abort')).toHaveLength(1);
    deadline.release();
    expect(getEventListeners(turn.signal, 'abort')).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(deadline.signal.aborted).toBe(false);
    turn.abort();
    expect(deadline.signal.aborted).toBe(false);
  });

  it('starts aborted under a turn already aborted', () => {
    const turn = new AbortController();
    turn.abort(new Error('gone'));
    const deadline = callDeadline(turn.signal, 10_000);
    expect(deadline.signal.aborted).toBe(true);
    deadline.release();
  });
});
