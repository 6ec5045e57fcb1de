import { describe, expect, it } from 'vitest';
import {
  type EventBody,
  extractFacts,
  extractFromMessage,
  FactTracker,
  factsAskedFor,
  factsOnFile,
  maskFact,
  STANDARD_FACTS,
} from '../src/index.ts';

/** The facts of one message as `name=value` strings, easy to read in a failure. */
function facts(text: string, previousQuestion?: string): string[] {
  return extractFromMessage(text, previousQuestion ? { previousQuestion } : undefined).map(
    (f) => `${f.name}=${f.value}`,
  );
}

const customer = (text: string): EventBody => ({ type: 'message', author: 'customer', text });
const ai = (text: string): EventBody => ({ type: 'message', author: 'ai', text });

describe('extractFromMessage: each fact as people write it', () => {
  it.each([
    ['acct 002245019', ['account_id=002245019']],
    ['(312) 555-0198, zip 60614', ['phone=(312) 555-0198', 'zip_code=60614']],
    ['born March 3 1962', ['date_of_birth=1962-03-03']],
    ["I'm Tomasz Wiśniewski", ['full_name=Tomasz Wiśniewski']],
    ['ref is K7TQ2M', ['order_id=K7TQ2M']],
    ['my email is dana dot reyes at example dot com', ['email=dana.reyes@example.com']],
    ['my emial is Rob.Tan@Example.net', ['email=rob.tan@example.net']],
    ['acount number 7781 2290', ['account_id=77812290']],
    ['Where is my order A10493? It says delivered', ['order_id=A10493']],
    ['Order #A-10493 never arrived', ['order_id=A-10493']],
    ['my member number is 00X-88213', ['member_id=00X-88213']],
    ['patient id 00912-44, dob is 3/14/1958', ['member_id=00912-44', 'date_of_birth=1958-03-14']],
    ['username is sunny_days88', ['username=sunny_days88']],
    ['the card ending in 4417 was charged', ['card_last4=4417']],
    ['you charged me $184.20 for something I returned', ['amount=184.20']],
    ['I got billed 49 dollars', ['amount=49.00']],
    ['DOB: 3rd of February 1990', ['date_of_birth=1990-02-03']],
    [
      'I moved, my new address is 77 Mass Ave Apt 12, Cambridge, MA 02139',
      ['street_address=77 Mass Ave Apt 12', 'zip_code=02139'],
    ],
    ['5308 Circle Drive  Jacksonville, CA 55194', ['street_address=5308 Circle Drive', 'zip_code=55194']],
    ['postcode SW1A 1AA', ['zip_code=SW1A 1AA']],
    ['95381901 is my account #', ['account_id=95381901']],
    ["my zip's 10001", ['zip_code=10001']],
    ['The account is under Maria Lopez', ['full_name=Maria Lopez']],
    ['Hi, Sarah here. My order #4471-22 is late', ['full_name=Sarah', 'order_id=4471-22']],
    ['I was born on 4/5/88', ['date_of_birth=1988-04-05']],
    ['My date of birth is the 5th of May 1970', ['date_of_birth=1970-05-05']],
    ['I want a refund of $250 for order 883321', ['amount=250.00', 'order_id=883321']],
    ['I live at 42 Wallaby Way, Sydney', ['street_address=42 Wallaby Way']],
    ['call me back on 07700 900123', ['phone=07700 900123']],
  ])('%s', (text, expected) => {
    expect(facts(text)).toEqual(expected);
  });

  it('reads international phone numbers', () => {
    expect(facts('please ring me on +44 20 7946 0958')).toEqual(['phone=+44 20 7946 0958']);
    expect(facts('+33 6 12 34 56 78', 'What phone number can we reach you on?')).toEqual(['phone=+33 6 12 34 56 78']);
    expect(facts('text me at 415.555.0199 when it ships')).toEqual(['phone=415.555.0199']);
  });

  it('keeps names with accents, hyphens, apostrophes and particles, and capitalises lower-case ones', () => {
    expect(facts("This is Anne-Marie D'Souza, I was double charged")).toEqual(["full_name=Anne-Marie D'Souza"]);
    expect(facts('maria de la cruz', 'May I have your name please?')).toEqual(['full_name=Maria de la Cruz']);
    expect(facts('hi this is joseph banter, i need help')).toEqual(['full_name=Joseph Banter']);
    expect(facts('my name is Jürgen Müller, phone +49 30 12345678')).toEqual([
      'full_name=Jürgen Müller',
      'phone=+49 30 12345678',
    ]);
  });
});

describe('extractFromMessage: bare answers read through the question before them', () => {
  it.each([
    ['Jane Doe', 'Could I get your full name?', ['full_name=Jane Doe']],
    ['07/22/1979', 'What is your date of birth?', ['date_of_birth=1979-07-22']],
    ["it's 4417", 'Can you give me the last four of your card?', ['card_last4=4417']],
    ['14224', 'Can I also have your zip code and phone number please?', ['zip_code=14224']],
    ['(791) 582-4288', 'Can I also have your zip code and phone number please?', ['phone=(791) 582-4288']],
    ["It's Omar Haddad", 'Who am I speaking with?', ['full_name=Omar Haddad']],
    ['A-99812', "What's your order number?", ['order_id=A-99812']],
    ['153531981 at PNC', 'Can you tell me your account number, please?', ['account_id=153531981']],
  ])('%s after "%s"', (text, question, expected) => {
    expect(facts(text, question)).toEqual(expected);
  });

  it('splits an answer to several questions by the shape of each value', () => {
    expect(
      facts(
        'josephb7, email is josephb7@email.com and order id is 2033568069',
        'Can I have your username, email address and order ID please?',
      ),
    ).toEqual(['username=josephb7', 'email=josephb7@email.com', 'order_id=2033568069']);
    expect(
      facts('Joseph Banter and my account is AFG5674G', 'Can I have your full name or Account ID please?'),
    ).toEqual(['full_name=Joseph Banter', 'account_id=AFG5674G']);
    expect(facts('VMERIZJOY2 0694105173', 'What are your account and order IDs please?')).toEqual([
      'account_id=VMERIZJOY2',
      'order_id=0694105173',
    ]);
  });

  it('does not take chatter for an answer', () => {
    expect(facts('Wait', 'Could I get your full name?')).toEqual([]);
    expect(facts('Oh, shoot, uh...no, I forgot.', 'Do you know your user name?')).toEqual([]);
    expect(facts("I don't know it, sorry", "What's your phone number?")).toEqual([]);
    expect(facts('Kindly check with the provided details.', 'The name of your bank?')).toEqual([]);
  });
});

describe('extractFromMessage: numbers and words that are not facts', () => {
  it.each([
    'I tried 3 times',
    '2 days ago',
    'the $5 off code failed',
    'I placed an order of 3 items',
    'it arrived at 10:45pm',
    "I've been a customer since 2009",
    "I'm locked out and I'm so tired of this",
    'this is ridiculous, I have been waiting for an hour',
    'This is super easy.',
    "I'm surprised you haven't heard of me",
    'order 12 items please',
    "I've called 3 times, at 9:30 and 10:15",
    'My birthday is next week',
    'use promo code SAVE20',
    'my mom is sick and I need to cancel',
    'I reset it but it still says login failed',
    'my username locked me out',
  ])('%s', (text) => {
    expect(facts(text)).toEqual([]);
  });

  it('takes the amount charged, not the discount', () => {
    expect(facts('the promo gave me $20 off but I was still charged $95.50')).toEqual(['amount=95.50']);
    expect(facts('I had a $10 coupon but was billed $74.50 for 3 items')).toEqual(['amount=74.50']);
  });
});

describe('extractFromMessage: secrets never become facts', () => {
  it('keeps the account next to a PIN and drops the PIN', () => {
    expect(facts('account 12345678 pin 4321')).toEqual(['account_id=12345678']);
    expect(facts('351531510 pin 5380', 'Can you tell me your account number, please?')).toEqual([
      'account_id=351531510',
    ]);
  });

  it.each([
    ['the code is 482913', undefined],
    ['482913', 'Please enter the one-time code you received.'],
    ['7402', 'Right, and your PIN as well please.'],
    ['My PIN is either 7402 or 1596.', 'Could you provide your date of birth, please?'],
    ['my password is Blue$ky2024 and it does not work', undefined],
    ['Sanders', "What is your mother's maiden name?"],
    ['Buddy', 'And what was the name of the pet you had as a child?'],
    ['4111 1111 1111 1111', undefined],
    ['my ssn is 123-45-6789', undefined],
    ['6789', 'To confirm, last four of your social?'],
  ])('%s', (text, question) => {
    expect(facts(text, question)).toEqual([]);
  });

  it('does not take a security answer for a name', () => {
    expect(facts("my mother's maiden name is Smith, my name is Carla Jones")).toEqual(['full_name=Carla Jones']);
    expect(facts('My Mommy’s name is Cooper and my pet was Nemo.', 'Security question answers?')).toEqual([]);
  });
});

describe('extractFacts: a conversation', () => {
  it('gives one fact per name with the index of the message it came from', () => {
    const events: EventBody[] = [
      customer("I can't log into online banking"),
      ai("What's the email on your account?"),
      customer('dana.reyes@example.com'),
      { type: 'action', name: 'reset_password', actor: 'ai', outcome: 'succeeded' },
      customer('my zip is 60614'),
    ];
    expect(extractFacts(events)).toEqual([
      { name: 'email', value: 'dana.reyes@example.com', source: 2, via: 'extracted', confidence: expect.any(Number) },
      { name: 'zip_code', value: '60614', source: 4, via: 'extracted', confidence: expect.any(Number) },
    ]);
  });

  it('lets a later correction replace an earlier value and remembers the old one', () => {
    const events = [ai("What's your zip code?"), customer('60614'), customer("sorry, it's 60615")];
    const [zip] = extractFacts(events);
    expect(zip).toMatchObject({ name: 'zip_code', value: '60615', source: 2, previous: ['60614'] });
    const corrected = extractFacts([customer('my zip is 10001'), ai('Thanks!'), customer('actually my zip is 10011')]);
    expect(corrected[0]).toMatchObject({ value: '10011', previous: ['10001'] });
  });

  it('reads "whoops" as a correction of the next value', () => {
    const events = [
      ai('Can I also get your username, email address, and order ID please?'),
      customer('alessandrop126'),
      customer('alessandrop126@email.com'),
      customer('7105'),
      customer('whoops'),
      customer('7105391101'),
    ];
    expect(extractFacts(events).find((f) => f.name === 'order_id')?.value).toBe('7105391101');
  });

  it('keeps the new value when the customer changes one ("from … to …")', () => {
    const events = [customer('I need to change my number from (757) 350-7140 to (757) 350-7141')];
    expect(extractFacts(events)).toMatchObject([{ name: 'phone', value: '(757) 350-7141' }]);
  });

  it('keeps the open question across "are you there?" but not across another question', () => {
    expect(extractFacts([ai('Can I have your name please?'), ai('hello?'), customer('Joyce Wu')])).toMatchObject([
      { name: 'full_name', value: 'Joyce Wu' },
    ]);
    expect(
      extractFacts([
        ai('May I have your name?'),
        customer('Sarah Brown'),
        ai('What restaurant?'),
        customer('Super Club'),
      ]),
    ).toMatchObject([{ name: 'full_name', value: 'Sarah Brown' }]);
  });

  it('takes facts from fact and identity events with their provenance', () => {
    const events: EventBody[] = [
      customer('I need to reschedule'),
      { type: 'fact', name: 'member_id', value: 'HMO-88213', via: 'bot' },
      { type: 'fact', name: 'full_name', value: 'Priya Natarajan', via: 'system', source: 0 },
      { type: 'identity', method: 'otp_sms', result: 'verified', subject: 'email:dana@example.com' },
      { type: 'fact', name: 'pin', value: '4321', via: 'bot' },
      { type: 'fact', name: 'phone_number', value: '(312) 555-0198', via: 'bot' },
    ];
    expect(extractFacts(events).map(({ name, value, source, via }) => ({ name, value, source, via }))).toEqual([
      { name: 'member_id', value: 'HMO-88213', source: 1, via: 'bot' },
      { name: 'full_name', value: 'Priya Natarajan', source: 0, via: 'system' },
      { name: 'email', value: 'dana@example.com', source: 3, via: 'system' },
      { name: 'phone', value: '(312) 555-0198', source: 5, via: 'bot' },
    ]);
    expect(
      extractFacts([{ type: 'identity', method: 'kba', result: 'verified', subject: 'Dana Reyes' }]),
    ).toMatchObject([{ name: 'full_name', value: 'Dana Reyes', source: 0, via: 'system' }]);
  });

  it('keeps values read from back-office results apart, as on file', () => {
    const events: EventBody[] = [
      customer('where is my order A10493?'),
      {
        type: 'action',
        name: 'lookup_order',
        actor: 'ai',
        outcome: 'succeeded',
        result: { order_id: 'A10493', total: 184.2, shipping_address: '12 Elm St, Springfield', pin: '9999' },
      },
    ];
    expect(extractFacts(events).map((f) => f.name)).toEqual(['order_id']);
    expect(factsOnFile(events).map(({ name, value, via, source }) => ({ name, value, via, source }))).toEqual([
      { name: 'order_id', value: 'A10493', via: 'system', source: 1 },
      { name: 'amount', value: '184.20', via: 'system', source: 1 },
      { name: 'street_address', value: '12 Elm St, Springfield', via: 'system', source: 1 },
    ]);
  });

  it('never lets a secret given earlier reappear as a fact', () => {
    const events = [ai("What's your PIN?"), customer('4321'), ai('And the last four of your card?'), customer('4321')];
    expect(extractFacts(events)).toEqual([]);
  });

  it('gives the same facts when asked again for a log that grew, or for a different log with equal texts', () => {
    const log: EventBody[] = [ai("What's your zip code?"), customer('60614')];
    expect(extractFacts(log)).toMatchObject([{ name: 'zip_code', value: '60614' }]);
    const grown = [...log, customer("sorry, it's 60615")];
    expect(extractFacts(grown)).toMatchObject([{ name: 'zip_code', value: '60615', previous: ['60614'] }]);
    expect(extractFacts(log)).toMatchObject([{ name: 'zip_code', value: '60614' }]);
    const other: EventBody[] = [ai('Could I get your full name?'), customer('60614')];
    expect(extractFacts(other)).toEqual([]);
  });

  it('grows one event at a time with the same result as a full replay', () => {
    const events = [
      ai('Could I get your full name, please?'),
      customer('Jane Doe'),
      ai('Can you tell me your account number, please?'),
      customer('84318931431'),
      ai('Right, and your PIN as well please.'),
      customer('7402'),
    ];
    const tracker = new FactTracker();
    for (const event of events) tracker.push(event);
    expect(tracker.size).toBe(events.length);
    expect(tracker.facts()).toEqual(extractFacts(events));
    expect(tracker.facts().map((f) => `${f.name}=${f.value}`)).toEqual([
      'full_name=Jane Doe',
      'account_id=84318931431',
    ]);
  });
});

describe('factsAskedFor', () => {
  it.each([
    ['Can you confirm your email address?', ['email']],
    ['ok, may I have your username, email address and order ID please?', ['username', 'email', 'order_id']],
    ["What's the email on your account?", ['email']],
    ['Could I get your full name, please?', ['full_name']],
    ['Who am I speaking with?', ['full_name']],
    ['What is your date of birth?', ['date_of_birth']],
    ['And the last 4 digits of the card?', ['card_last4']],
    ['What are your account and order IDs please?', ['account_id', 'order_id']],
    ["What's the best phone number to reach you?", ['phone']],
    ['What is your shipping address?', ['street_address']],
  ])('%s', (text, expected) => {
    expect(factsAskedFor(text)).toEqual(expected);
  });

  it.each([
    'I can see your email is on file.',
    'Have you tried resetting your password?',
    "What is your mother's maiden name?",
    'And what was the name of the pet you had as a child?',
    'The name of your bank?',
    'Let me check your two-step verification settings.',
  ])('asks for no fact: %s', (text) => {
    expect(factsAskedFor(text)).toEqual([]);
  });
});

describe('maskFact', () => {
  it.each([
    ['email', 'dana@example.com', 'd***@example.com'],
    ['phone', '(312) 555-0198', '***-***-0198'],
    ['account_id', '002245019', '*****5019'],
    ['card_last4', '4417', '**** 4417'],
    ['date_of_birth', '1962-03-03', '****-**-03'],
    ['full_name', 'Dana Reyes', 'Dana R.'],
    ['street_address', '12 Elm St', '** Elm St'],
    ['zip_code', '60614', '606**'],
  ])('%s %s', (name, value, masked) => {
    expect(maskFact(name, value)).toBe(masked);
  });

  it('never shows a masked value whole', () => {
    for (const name of STANDARD_FACTS.filter((n) => n !== 'amount' && n !== 'card_last4')) {
      expect(maskFact(name, 'Abcdefgh 12345678')).not.toBe('Abcdefgh 12345678');
    }
  });
});
