import type { Playbook } from '../playbook.ts';

/** S1: a member cannot sign in. Identify, verify by one-time code, reset, then check the login service. */
export const accountAccess: Playbook = {
  id: 'account_access',
  label: 'account access',
  industries: ['finance'],
  signals: {
    phrases: [
      { text: 'cannot log in', weight: 2 },
      { text: 'cannot sign in', weight: 2 },
      { text: 'not log in', weight: 2 },
      { text: 'not sign in', weight: 2 },
      { text: 'unable to log in', weight: 2 },
      { text: 'locked out', weight: 2 },
      { text: 'forgot password', weight: 2 },
      { text: 'forgotten password', weight: 2 },
      { text: 'remember password', weight: 2 },
      { text: 'lost password', weight: 2 },
      { text: 'forgot username', weight: 2 },
      { text: 'forgotten username', weight: 2 },
      { text: 'remember username', weight: 2 },
      { text: 'two factor', weight: 2 },
      { text: '2fa', weight: 2 },
      { text: 'two step verification', weight: 2 },
      { text: 'cannot get in', weight: 2 },
      { text: 'reset password', weight: 2 },
      { text: 'password not working', weight: 2 },
      { text: 'password wrong', weight: 1 },
      { text: 'get into account', weight: 2 },
      { text: 'access account', weight: 2 },
      { text: 'login', weight: 1 },
      { text: 'log in', weight: 1 },
      { text: 'sign in', weight: 1 },
      { text: 'online banking', weight: 1 },
      { text: 'let me in', weight: 1 },
    ],
  },
  steps: [
    {
      kind: 'ask',
      facts: ['email', 'member_id', 'phone'],
      need: 'any',
      prompt:
        "I'm sorry you're locked out; let's get you back in. What happens when you try to sign in? And so I can find your membership, what's the email address on your account (or your member number)?",
    },
    {
      kind: 'tool',
      tool: 'lookup_member',
      input: { email: 'fact.email', member_id: 'fact.member_id', phone: 'fact.phone' },
      replies: {
        failed:
          "I couldn't find a membership with those details. Could you check the email address, or give me your member number instead?",
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
          'Thanks, {{first_name}}. To make sure it is you, I just texted a 6-digit code to the phone on file ({{result.send_verification_code.sent_to}}). What is the code?',
        failed: "I couldn't send a verification code just now ({{error.code}}).",
      },
      escalateOn: ['failed'],
      handoff: { trigger: 'repeated_failure', reason: 'could not send a verification code', skills: ['accounts'] },
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
      replies: {
        failed: "That code didn't match. Could you check the text message and type the 6-digit code again?",
      },
      stopOnFailure: false,
    },
    {
      kind: 'tool',
      tool: 'reset_password',
      input: { member_id: 'result.lookup_member.member_id' },
      replies: {
        succeeded:
          "You're verified. I've reset your password and emailed a reset link to {{result.reset_password.reset_link_sent_to}}. Open the link, choose a new password, try signing in, and tell me how it goes.",
        failed: "I couldn't reset the password ({{error.code}}: {{error.message}}).",
      },
      escalateOn: ['failed'],
      handoff: { trigger: 'repeated_failure', reason: 'password reset failed', skills: ['accounts'] },
    },
    { kind: 'await', after: 'reset_password' },
    {
      kind: 'tool',
      tool: 'check_login',
      input: { member_id: 'result.lookup_member.member_id' },
      replies: {
        succeeded: "Good news: the login service shows you're signed in again. Is there anything else I can help with?",
        failed:
          "I checked with our login service: it still refuses the sign-in with the error {{error.code}} ({{error.message}}). That's not something I can change from here, but a colleague can.",
        stuck:
          'The login service still reports {{error.code}} for your account. A colleague can fix that with you; just say if you want me to bring one in.',
      },
    },
  ],
};
