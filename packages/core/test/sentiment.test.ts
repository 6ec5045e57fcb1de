import { describe, expect, it } from 'vitest';
import { actionWords, analyzeSentiment, type EventBody, scoreMessage, stem } from '../src/index.ts';

const customer = (text: string): EventBody => ({ type: 'message', author: 'customer', text });

describe('sentiment', () => {
  it('reads frustration from words, repetition, caps, punctuation and swearing', () => {
    expect(scoreMessage('Thanks, that worked great!').score).toBeGreaterThan(0.3);
    expect(scoreMessage('Thanks, that worked great!').frustration).toBe(0);
    expect(scoreMessage("This is ridiculous, I've done this twice already.").frustration).toBeGreaterThanOrEqual(0.7);
    expect(scoreMessage('STILL NOT WORKING!!!').frustration).toBeGreaterThanOrEqual(0.7);
    expect(scoreMessage('this is useless, wtf').cues).toEqual(expect.arrayContaining(['useless', 'swearing']));
    expect(scoreMessage("it's not bad").score).toBeGreaterThanOrEqual(0);
    expect(scoreMessage('My PIN and SMS code are fine').cues).not.toContain('caps');
  });

  it('hears delight in "thank you!!" and impatience in "hello??" and "why is this broken!!"', () => {
    expect(scoreMessage('Great, that helps a lot, thank you!!')).toMatchObject({ frustration: 0, cues: [] });
    expect(scoreMessage('hello?? is anyone there')).toMatchObject({ cues: ['repeated punctuation'] });
    expect(scoreMessage('hello?? is anyone there').frustration).toBeGreaterThan(0);
    expect(scoreMessage('Why is the app broken again!!').cues).toContain('repeated punctuation');
    expect(scoreMessage('I need it today!!').cues).toContain('repeated punctuation');
  });

  it('scores a text once, and each caller gets cues of its own', () => {
    const first = scoreMessage('this is useless, wtf');
    first.cues.push('changed by the caller');
    expect(scoreMessage('this is useless, wtf').cues).not.toContain('changed by the caller');
  });

  it('a word that is also an object property ("constructor") is just a word', () => {
    expect(scoreMessage('the constructor of my house never came')).toMatchObject({ frustration: 0, cues: [] });
    expect(scoreMessage('the constructor of my house never came').score).toBeLessThan(0);
  });

  it('S4: frustration rising over the last messages', () => {
    const sentiment = analyzeSentiment([
      customer('I need to change my address'),
      customer('44 Oak Avenue. again.'),
      customer("This is ridiculous, I've done this twice already."),
    ]);
    expect(sentiment).toMatchObject({ label: 'frustrated', trend: 'rising' });
    expect(sentiment.evidence.at(-1)?.cues).toContain('ridiculous');
  });

  it('a calm message after an outburst reads as falling', () => {
    const sentiment = analyzeSentiment([customer('This is USELESS!!!'), customer('ok, thank you, that works now')]);
    expect(sentiment.trend).toBe('falling');
    expect(sentiment.label).not.toBe('frustrated');
  });

  it('no customer message: neutral and steady', () => {
    expect(analyzeSentiment([])).toMatchObject({ label: 'neutral', trend: 'steady', evidence: [] });
  });
});

describe('action words', () => {
  it('reads snake_case, camelCase and noun-first names', () => {
    expect(actionWords('reset_password')).toMatchObject({
      past: 'reset your password',
      gerund: 'resetting your password',
    });
    expect(actionWords('trackShipment').past).toBe('tracked your shipment');
    expect(actionWords('password_reset').verb).toBe('reset');
    expect(actionWords('look_up_order').phrase).toBe('look up your order');
    expect(actionWords('verify_identity').past).toBe('verified your identity');
  });

  it('reads back-office bookkeeping names as a verb and its object, not "handled the record reason"', () => {
    expect(actionWords('record_reason').past).toBe('recorded the reason');
    expect(actionWords('enter_details').past).toBe('entered the details');
    expect(actionWords('query_system').past).toBe('queried the system');
    expect(actionWords('flag_transaction').past).toBe('flagged the transaction');
    expect(actionWords('hold_payment').past).toBe('held your payment');
    expect(actionWords('search_faq').past).toBe('searched the FAQ');
    expect(actionWords('bank_balance').past).toBe('checked your bank balance');
    expect(actionWords('bank_balance').verb).toBeUndefined();
    expect(actionWords('weather').past).toBe('checked the weather');
    expect(actionWords('escalation').past).toBe('handled the escalation');
  });

  it('stems draft words and action words to the same form', () => {
    expect(stem('resetting')).toBe(stem('reset'));
    expect(stem('restarted')).toBe(stem('restart'));
    expect(stem('updating')).toBe(stem('update'));
    expect(stem('sent')).toBe(stem('send'));
  });
});
