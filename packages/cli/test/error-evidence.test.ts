import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServer } from '../../server/src/app/server.ts';
import { loadConfig } from '../../server/src/config.ts';
import { conversationEvidence } from '../src/bench/error-evidence.ts';
import { HttpClient } from '../src/bench/http-client.ts';

describe("a bench error's evidence", () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof createServer>>;
  const http = new HttpClient(4);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-evidence-'));
    server = await createServer(loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', BATON_DATA_DIR: dir }));
  });

  afterAll(async () => {
    http.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("tells what the customer saw and the conversation's last events, or why the log was not read", async () => {
    const created = z
      .object({ conversation: z.object({ id: z.string() }), customerToken: z.string() })
      .parse((await http.send('POST', `${server.url}/v1/conversations`, { text: 'My router keeps rebooting.' })).body);
    const customer = {
      conversationId: created.conversation.id,
      url: server.url,
      token: created.customerToken,
      http,
      agentMessages: 0,
      resolvedSeq: undefined,
    };
    const posted = z
      .object({ event: z.object({ seq: z.number() }) })
      .parse(
        (
          await http.send(
            'POST',
            `${server.url}/v1/conversations/${customer.conversationId}/messages`,
            { text: 'It started yesterday.' },
            { 'x-customer-token': customer.token },
          )
        ).body,
      );
    const told = await conversationEvidence(customer, posted.event.seq, 'agent messages seen 0');
    expect(told).toContain(`${customer.conversationId}, message ${posted.event.seq}, agent messages seen 0, now 0`);
    expect(told).toContain('resolved at -');
    // The customer's two messages, by seq and author, in order.
    // Each event with its time after the first one shown.
    expect(told).toMatch(new RegExp(`log 1:customer@0 .*${posted.event.seq}:customer@\\d+`));

    const refused = await conversationEvidence({ ...customer, token: 'not-the-token' }, undefined);
    expect(refused).toMatch(/; log not read \(HTTP 40[13]\)$/);
    const unreachable = await conversationEvidence({ ...customer, url: 'http://127.0.0.1:9' }, undefined);
    expect(unreachable).toMatch(/; log not read: /);
  });
});
