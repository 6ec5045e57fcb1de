import { setTimeout as sleep } from 'node:timers/promises';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgentModule } from '../../server/src/agent/agent-module.ts';
import { PlaybookAgent } from '../../server/src/agent/playbook-agent.ts';
import { modules } from '../../server/src/app/modules.ts';
import { deskModule } from '../../server/src/app/routes/desk.ts';
import { DemoBackOffice } from '../../server/src/connectors/demo-back-office.ts';
import { startTestServer, type TestServer } from '../../server/test/helpers.ts';
import { type Browser, customerSays, ensureWebBuild, loginToConsole, openBrowser, screenshot } from './support/e2e.ts';

/**
 * The server's modules with the built-in playbook agent over the demo back office, as `baton start` runs
 * it, and offers that wait for a slow machine: reading the brief must not race the offer's expiry.
 */
function withPlaybookAgent() {
  const agent = createAgentModule({ agent: new PlaybookAgent(), connector: new DemoBackOffice(), env: {} });
  return [
    ...modules
      .filter((module) => module.name !== 'agent')
      .map((module) => (module.name === 'desk' ? deskModule({ offerTtlMs: 300_000 }) : module)),
    agent,
  ];
}

/** Waits for the assistant's newest reply to match, on the customer's page. */
async function assistantReplies(page: Page, pattern: RegExp): Promise<void> {
  await page.getByTestId('chat-log').locator('.bubble.ai').filter({ hasText: pattern }).last().waitFor();
}

function agentOf(server: TestServer, email: string) {
  const agent = server.seed?.agents.find((candidate) => candidate.email === email);
  if (!agent) throw new Error(`no seeded agent ${email}`);
  return agent;
}

async function readSeqs(page: Page, selector: string): Promise<number[]> {
  return page
    .locator(selector)
    .evaluateAll((items) => items.map((item) => Number(item.closest('[data-seq]')?.getAttribute('data-seq'))));
}

describe('the live desk: S1, S5, S6, S7 with a customer and two agent consoles', () => {
  let server: TestServer;
  let customer: Browser;
  let sam: Browser;
  let morgan: Browser;

  beforeAll(async () => {
    ensureWebBuild();
    server = await startTestServer({ modules: withPlaybookAgent() });
    [customer, sam, morgan] = await Promise.all([
      openBrowser({ viewport: { width: 390, height: 780 } }),
      openBrowser(),
      openBrowser(),
    ]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([customer?.close(), sam?.close(), morgan?.close()]);
    await server?.close();
  });

  it('S1: the brief is on screen before accepting, and the compose box holds the opening line', async () => {
    const samAgent = agentOf(server, 'sam@demo.baton.dev');
    await loginToConsole(sam.page, server.url, samAgent.email, samAgent.password);

    const chat = customer.page;
    await chat.goto(`${server.url}/chat/?industry=finance&name=Dana%20Reyes`);
    await customerSays(chat, "Hi, I can't log into my account");
    await assistantReplies(chat, /email address/i);
    await customerSays(chat, 'It keeps saying my password is wrong. My email is dana.reyes@example.com');
    await assistantReplies(chat, /6-digit code/);
    await customerSays(chat, '482913');
    await assistantReplies(chat, /reset your password/i);
    await customerSays(chat, 'I used the link and set a new password but it still won’t let me sign in');
    await assistantReplies(chat, /MFA_DEVICE_NOT_REGISTERED/);
    await customerSays(chat, 'still not working, can I talk to a person?');

    const offer = sam.page
      .getByTestId('inbox')
      .getByRole('region', { name: 'Offers for you' })
      .getByRole('button', { name: /Dana Reyes/ });
    await offer.click();
    const accept = sam.page.getByTestId('accept');
    await accept.waitFor();

    // Before accepting: reason, identity, steps and outcomes, the error, sentiment.
    const brief = sam.page.getByTestId('brief');
    await expect.poll(() => brief.getByTestId('brief-reason').textContent()).toMatch(/account access/i);
    expect(await brief.getByTestId('brief-identity').textContent()).toMatch(/Verified/);
    const steps = await brief.getByTestId('brief-steps').textContent();
    expect(steps).toMatch(/Reset password/i);
    expect(await brief.getByTestId('brief-errors').textContent()).toContain('MFA_DEVICE_NOT_REGISTERED');
    expect(await brief.getByTestId('brief-sentiment').isVisible()).toBe(true);
    expect(await brief.getByTestId('brief-facts').textContent()).toMatch(/@example\.com/);
    await screenshot(sam.page, 's1-offer-with-brief');

    // A fact links to the message it came from: one click scrolls there and highlights it.
    await brief.locator('[data-fact="email"]').click();
    const highlighted = sam.page.getByTestId('transcript').locator('li.highlight');
    await highlighted.waitFor();
    expect(await highlighted.textContent()).toContain('dana.reyes@example.com');
    expect(await highlighted.evaluate((item) => item === document.activeElement)).toBe(true);

    await accept.click();
    const compose = sam.page.getByTestId('compose');
    await expect.poll(() => compose.inputValue()).toMatch(/Dana/);
    const greeting = await compose.inputValue();
    expect(greeting).not.toMatch(/email address\?/i);
    await chat.getByText(/Sam Rivera .*is joining; they can see everything so far/).waitFor();
    await screenshot(sam.page, 's1-accepted-greeting');
    await screenshot(chat, 's1-chat-agent-joined');
  });

  it('S5: the guard flags the three drafts and passes the fourth, with one click to a better sentence', async () => {
    const page = sam.page;
    const compose = page.getByTestId('compose');
    const findings = page.getByTestId('guard-findings');

    await compose.fill('Can you confirm your email address?');
    await findings.locator('[data-kind="repeat_ask"]').waitFor();
    await screenshot(page, 's5-guard-repeat-ask');

    await compose.fill('Have you tried resetting your password?');
    await findings.locator('[data-kind="repeat_action"]').waitFor();

    await compose.fill('Let me start by getting some information from you');
    await findings.locator('[data-kind="restart_phrase"]').waitFor();
    const suggestion = await findings.locator('.guard-suggestion').first().textContent();
    await findings.getByRole('button', { name: 'Use this' }).first().click();
    await expect.poll(() => compose.inputValue()).toBe(suggestion);

    await compose.fill('Let me check your two-step verification settings');
    await page.getByTestId('guard-ok').waitFor();
    expect(await findings.count()).toBe(0);
    await compose.press('Enter');
    await customer.page.getByTestId('chat-log').getByText('Let me check your two-step verification settings').waitFor();

    // The next message, started while the last one is still on its way (held 400 ms here), stays in the box.
    const slow = async (route: Route) => {
      await sleep(400);
      await route.continue();
    };
    await page.route('**/v1/conversations/*/messages', slow);
    try {
      await compose.fill('I can see two devices on your account');
      await compose.press('Enter');
      await compose.fill('Which one do you use');
      await customer.page.getByTestId('chat-log').getByText('I can see two devices on your account').waitFor();
      await expect.poll(() => compose.inputValue()).toBe('Which one do you use');
    } finally {
      await page.unroute('**/v1/conversations/*/messages', slow);
    }
  });

  it('S6: a transfer keeps the brief, adds the note, and the customer sees one conversation', async () => {
    const page = sam.page;
    await page.getByRole('tab', { name: 'Internal note' }).click();
    await page
      .getByTestId('compose')
      .fill('MFA device list is empty on the member record; the fee question is for billing.');
    await page.getByTestId('compose').press('Enter');
    await page
      .locator('.note-row')
      .getByText(/MFA device list is empty/)
      .waitFor();

    await page.getByRole('button', { name: 'Transfer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Transfer conversation' });
    await dialog.getByLabel('Queue', { exact: true }).selectOption('billing');
    await dialog.getByLabel('Note for the next agent').fill('Verified by one-time code; please review the late fee.');
    await dialog.getByRole('button', { name: 'Transfer' }).click();
    await dialog.waitFor({ state: 'detached' });

    const morganAgent = agentOf(server, 'morgan@demo.baton.dev');
    await loginToConsole(morgan.page, server.url, morganAgent.email, morganAgent.password);
    await morgan.page
      .getByTestId('inbox')
      .getByRole('region', { name: 'Offers for you' })
      .getByRole('button', { name: /Dana Reyes/ })
      .click();
    const brief = morgan.page.getByTestId('brief');
    await expect.poll(() => brief.getByTestId('brief-reason').textContent()).toMatch(/account access/i);
    expect(await brief.getByTestId('brief-identity').textContent()).toMatch(/Verified/);
    const notes = await brief.getByTestId('brief-notes').textContent();
    expect(notes).toContain('MFA device list is empty');
    expect(notes).toContain('please review the late fee');
    // What the first agent wrote to the customer is in the transcript the second agent reads.
    await morgan.page.getByTestId('transcript').getByText('Let me check your two-step verification settings').waitFor();
    await screenshot(morgan.page, 's6-second-agent-offer');
    await morgan.page.getByTestId('accept').click();
    await customer.page.getByText(/Morgan Lee .*is joining; they can see everything so far/).waitFor();

    // One continuous conversation on the customer's side: everything from the start is still there.
    const mine = await customer.page.getByTestId('chat-log').locator('.bubble.customer').allTextContents();
    expect(mine[0]).toBe("Hi, I can't log into my account");
    expect(mine.at(-1)).toBe('still not working, can I talk to a person?');
  });

  it('S7: the AI stays silent while a human owns the conversation, and picks up after the hand-back', async () => {
    const chat = customer.page;
    await customerSays(chat, 'ok, I will wait');
    await morgan.page.getByTestId('transcript').getByText('ok, I will wait').waitFor();

    await morgan.page.getByRole('button', { name: 'Hand back to AI' }).click();
    const dialog = morgan.page.getByRole('dialog', { name: 'Hand back to the AI' });
    await dialog.getByLabel('What you did, for the AI').fill('Re-registered the MFA device; sign-in works again.');
    await dialog.getByRole('button', { name: 'Hand back' }).click();
    await chat.getByText(/handed you back to our virtual assistant/).waitFor();

    await customerSays(chat, 'It works now, thank you!');
    const handBack = await chat
      .getByText(/handed you back to our virtual assistant/)
      .evaluate((item) => Number(item.getAttribute('data-seq')));
    await chat
      .getByTestId('chat-log')
      .locator('.bubble-row.theirs')
      .filter({ has: chat.locator('.bubble.ai') })
      .last()
      .waitFor();
    const firstJoin = await chat
      .getByText(/Sam Rivera .*is joining/)
      .evaluate((item) => Number(item.getAttribute('data-seq')));
    const aiSeqs = await readSeqs(chat, '.bubble.ai');
    expect(aiSeqs.filter((seq) => seq > firstJoin && seq < handBack)).toEqual([]);
    expect(aiSeqs.some((seq) => seq > handBack)).toBe(true);
    const lastAi = await chat.locator('.bubble.ai').last().textContent();
    expect(lastAi).not.toMatch(/email address|6-digit code/i);
    await screenshot(chat, 's7-chat-after-hand-back');
    await screenshot(morgan.page, 's7-console-after-hand-back');
  });
  it('shows the supervisor live queues, agents with their load, and handoff charts', async () => {
    const page = morgan.page;
    // Pat's console closed and the server took Pat offline (console-presence.ts): the table says why.
    await server.server.deps.store.setAgentPresence('agent_pat', 'offline', 'console_closed');
    await page.goto(`${server.url}/supervisor/`);
    const agents = page.getByTestId('agents');
    await agents.getByRole('row', { name: /Sam Rivera/ }).waitFor();
    expect(await agents.getByRole('row', { name: /Morgan Lee/ }).textContent()).toMatch(/online/);
    const pat = agents.getByRole('row', { name: /Pat Okafor/ });
    expect(await pat.textContent()).toMatch(/offline/);
    expect(await pat.getByTestId('presence-reason').textContent()).toMatch(/console closed/);
    expect(
      await agents
        .getByRole('row', { name: /Morgan Lee/ })
        .getByTestId('presence-reason')
        .count(),
    ).toBe(0);
    expect(
      await page
        .getByTestId('queues')
        .getByRole('row', { name: /Billing/ })
        .count(),
    ).toBe(1);
    await page.getByRole('img', { name: 'Handoffs and accepted offers' }).waitFor();
    // Two handoffs in this test run (the request and the transfer): the charts count them.
    expect(
      await page.getByRole('img', { name: 'Handoffs and accepted offers' }).locator('rect').count(),
    ).toBeGreaterThan(0);
    // The context engine's side: the agents' replies in this run were judged by the guard.
    expect(await page.getByTestId('context-metrics').textContent()).toMatch(/Handed-off conversations\s*[1-9]/);
    await page.setViewportSize({ width: 1440, height: 1400 });
    await screenshot(page, 'supervisor-dashboard');
  });
});

describe('S9: no one free', () => {
  let server: TestServer;
  let customer: Browser;

  beforeAll(async () => {
    ensureWebBuild();
    server = await startTestServer();
    customer = await openBrowser({ viewport: { width: 390, height: 780 } });
  }, 240_000);

  afterAll(async () => {
    await customer?.close();
    await server?.close();
  });

  async function api(path: string, body: unknown, headers: Record<string, string>): Promise<Record<string, unknown>> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, unknown>;
  }

  /** Fills the only online agent's capacity through the API, as other customers would. */
  async function keepSamBusy(): Promise<void> {
    const token = await server.login('sam@demo.baton.dev');
    const auth = { authorization: `Bearer ${token}` };
    await api('/v1/desk/presence', { presence: 'online' }, auth);
    for (let index = 0; index < 3; index += 1) {
      const created = (await api('/v1/conversations', { text: `Earlier customer ${index}` }, {})) as {
        conversation: { id: string };
        customerToken: string;
      };
      await api(
        `/v1/conversations/${created.conversation.id}/handoff`,
        {},
        {
          'x-customer-token': created.customerToken,
        },
      );
    }
    // Sam takes whatever is offered until his three slots are full.
    await expect
      .poll(
        async () => {
          const inbox = (await (await fetch(`${server.url}/v1/desk/inbox`, { headers: auth })).json()) as {
            offers: { conversationId: string }[];
            owned: unknown[];
          };
          for (const offer of inbox.offers) {
            await fetch(`${server.url}/v1/conversations/${offer.conversationId}/accept`, {
              method: 'POST',
              headers: { ...auth, 'content-type': 'application/json' },
              body: '{}',
            });
          }
          return inbox.owned.length;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(3);
  }

  it('tells the customer their place in the queue, honestly, and a wait estimate when one exists', async () => {
    const chat = customer.page;
    // Every seeded agent starts offline: nobody can take the handoff, and no estimate would be honest.
    await chat.goto(`${server.url}/chat/?industry=ecommerce&name=Jordan`);
    await customerSays(chat, 'I have a question about a charge on my order');
    await chat.getByRole('button', { name: 'Talk to a person' }).click();
    const status = chat.getByTestId('queue-status');
    await status.getByText(/You are number 1 in the queue/).waitFor();
    expect(await status.textContent()).toMatch(/busy or away/);
    await chat.getByText(/connecting you with a person/i).waitFor();
    await screenshot(chat, 's9-queue-nobody-online');

    // Sam comes online but is at capacity: a second customer gets a place and an estimate.
    await chat.evaluate(() => sessionStorage.clear());
    await keepSamBusy();
    await chat.goto(`${server.url}/chat/?industry=ecommerce&name=Casey`);
    await customerSays(chat, 'Hello, I need help with a return');
    await chat.getByRole('button', { name: 'Talk to a person' }).click();
    await status.getByText(/Expected wait: about/).waitFor();
    expect(await status.textContent()).toMatch(/You are number \d+ in the queue/);
    await screenshot(chat, 's9-queue-position');
  });
});

describe('a conversation from offer to rating, by keyboard, with typing both ways', () => {
  let server: TestServer;
  let customer: Browser;
  let sam: Browser;

  beforeAll(async () => {
    ensureWebBuild();
    // No AI agent: the customer asks for a person with the button, and nothing else speaks.
    server = await startTestServer({ modules: modules.filter((module) => module.name !== 'agent') });
    [customer, sam] = await Promise.all([openBrowser({ viewport: { width: 390, height: 780 } }), openBrowser()]);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([customer?.close(), sam?.close()]);
    await server?.close();
  });

  it('accepts with a key, shows typing both ways, resolves, and the customer rates it', async () => {
    const samAgent = agentOf(server, 'sam@demo.baton.dev');
    await loginToConsole(sam.page, server.url, samAgent.email, samAgent.password);
    const chat = customer.page;
    await chat.goto(`${server.url}/chat/?name=Avery%20Stone`);
    await customerSays(chat, 'I was charged twice for the same order');
    await chat.getByRole('button', { name: 'Talk to a person' }).click();

    // The new offer opens by itself with Accept focused: one key takes it.
    const accept = sam.page.getByTestId('accept');
    await accept.waitFor();
    await expect.poll(() => accept.evaluate((button) => button === document.activeElement)).toBe(true);
    await sam.page.keyboard.press('a');
    await chat.getByText(/Sam Rivera is joining; they can see everything so far/).waitFor();
    const compose = sam.page.getByTestId('compose');
    await expect.poll(() => compose.inputValue()).not.toBe('');
    await expect.poll(() => compose.evaluate((input) => input === document.activeElement)).toBe(true);

    await chat.getByLabel('Your message').fill('It was on my card ending 4242');
    await sam.page.getByTestId('customer-typing').waitFor();
    await customerSays(chat, 'It was on my card ending 4242');

    await compose.fill('I can see both charges; I am refunding the second one now.');
    await chat.getByText('Sam Rivera is typing…').waitFor();
    await compose.press('Enter');
    await chat.getByText('I can see both charges; I am refunding the second one now.').waitFor();

    await sam.page.keyboard.press('Alt+r');
    const dialog = sam.page.getByRole('dialog', { name: 'Resolve conversation' });
    await dialog.getByLabel('Summary (optional)').fill('Refunded the duplicate charge.');
    // While the dialog covers the transcript, the customer writes once more: the resolve is refused and the
    // dialog says what they wrote; resolving again, having read it, closes the conversation.
    await customerSays(chat, 'Thanks, that is all I needed');
    await sam.page.getByTestId('transcript').getByText('Thanks, that is all I needed').waitFor();
    await dialog.getByRole('button', { name: 'Resolve' }).click();
    await dialog.getByText(/The customer wrote while you were closing: “Thanks, that is all I needed”/).waitFor();
    expect(await chat.getByRole('form', { name: 'Rate this conversation' }).count()).toBe(0);
    await dialog.getByRole('button', { name: 'Resolve' }).click();

    const rating = chat.getByRole('form', { name: 'Rate this conversation' });
    await rating.waitFor();
    await rating.locator('label.star').nth(4).click();
    expect(await rating.getByRole('radio', { name: '5 stars' }).isChecked()).toBe(true);
    await rating.getByRole('button', { name: 'Send rating' }).click();
    await chat.getByText('Thank you for your feedback.').waitFor();
    await screenshot(chat, 'chat-rated-phone');
    await sam.page
      .getByTestId('transcript')
      .getByText(/Customer rated ★★★★★/)
      .waitFor();
  });

  it('shows a presence change made elsewhere (another tab, the server) in the availability control', async () => {
    const select = sam.page.getByTestId('presence').locator('select');
    await expect.poll(() => select.inputValue()).toBe('online');
    const token = await server.login('sam@demo.baton.dev');
    const setElsewhere = async (presence: string) => {
      const response = await fetch(`${server.url}/v1/desk/presence`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ presence }),
      });
      expect(response.status).toBe(200);
    };
    await setElsewhere('away');
    await expect.poll(() => select.inputValue()).toBe('away');
    await setElsewhere('online');
    await expect.poll(() => select.inputValue()).toBe('online');
  });
});
