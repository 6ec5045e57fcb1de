/**
 * What a question asks for. The same reading serves two purposes: interpreting a bare answer ("Jane Doe"
 * right after "Could I get your full name?") and telling the continuity guard that an agent's draft asks for
 * a fact. Only clauses that request something count, so "I can see your email is…" asks for nothing.
 */

export const SECRET_KINDS = ['pin', 'password', 'otp', 'security_answer', 'card_number', 'ssn', 'cvv'] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** Mentions of each fact inside a request. Order does not matter; results come in order of mention. */
const FACT_MENTIONS: ReadonlyArray<readonly [string, RegExp]> = [
  [
    'full_name',
    /\b(?:(?:full|first and last|last|first|legal|your|the|account ?holder'?s?) name|name (?:on|for) the account|(?:what(?:'s| is)|and|have|get|confirm|provide|need|with) (?:your |the )?name|who (?:am i|i'?m) (?:speaking|talking|chatting) (?:with|to)|who(?:'s| is) (?:this|speaking)|name,|name\?|name please|name and)\b/i,
  ],
  ['email', /\be-?\s?mail|\bemial\b|\bemai\b/i],
  [
    'phone',
    /\b(?:phone|cell|mobile|telephone|tel\.|contact number|callback number|call ?back number|number (?:to|we can|i can) (?:reach|call|text)|number on (?:file|the account) for calls)\b/i,
  ],
  [
    'account_id',
    /\b(?:ac{1,2}ou?n?t|acct|a\/c)(?:\s+(?:and|&|or)\s+order)?\s*(?:numbers?|#|no\b|num\b|ids?\b|IDs?\b)|\bacct\b|\b(?:customer|client) (?:number|id)\b/i,
  ],
  [
    'order_id',
    /\b(?:order|ordr|oder)(?:\s+(?:and|&|or)\s+account)?\s*(?:numbers?|#|no\b|num\b|ids?\b|IDs?\b|reference|ref\b|code\b)|\baccount (?:and|&) order\b|\b(?:reference|ref|booking|confirmation|reservation) (?:number|#|no\b|code|id)\b/i,
  ],
  ['username', /\busers?\s?name|\busername|\buser id\b|\blogin (?:id|name)\b|\bhandle\b|\bscreen ?name\b/i],
  ['zip_code', /\bzip\b|\bzip\s?code|\bzipcode|\bpostal\b|\bpost\s?code|\bpostcode/i],
  [
    'street_address',
    /\b(?:street|home|shipping|delivery|mailing|billing|postal|physical|residential|full|your|the|an|new|correct)?\s*(?:address|adress|addres)\b(?!\s*(?:book|bar))/i,
  ],
  [
    'date_of_birth',
    /\bdate of birth|\bbirth\s?date|\bbirthday|\bdob\b|\bd\.o\.b|\bwhen were you born|\bborn on\b|\byear of birth/i,
  ],
  [
    'card_last4',
    /\blast (?:4|four)(?: digits)?(?! (?:digits )?of (?:your |the |my )?(?:social|ssn|phone|account|acct|sin\b))|\bcard ending|\bending (?:in|with|digits)|\bends (?:in|with)\b/i,
  ],
  [
    'member_id',
    /\b(?:member(?:ship)?|patient|insurance|subscriber|policy|medicare|medicaid|health ?plan)\s*(?:number|#|no\b|num\b|id\b|ID\b|card number)|\bmrn\b|\bmedical record number/i,
  ],
  [
    'amount',
    /\bhow much\b|\b(?:the|what) (?:amount|total|charge|price|sum)\b|\bamount (?:of|was|were|charged|billed|due)\b|\bwhat (?:was|were) you (?:charged|billed)\b/i,
  ],
];

const SECRET_MENTIONS: ReadonlyArray<readonly [SecretKind, RegExp]> = [
  ['pin', /\bpin\b|\bpin (?:number|code)\b|\bpasscode\b/i],
  [
    'password',
    /\b(?:what(?:'s| is)|provide|give|tell|enter|confirm|share|need|type|send|have|get|verify)\b[^.?!]{0,30}\b(?:password|passphrase|passwd)\b/i,
  ],
  [
    'otp',
    /\b(?:one[- ]time (?:pass)?code|otp|verification code|security code(?! on)|authentication code|auth code|2fa code|sms code|code (?:we|i|that we|that i) (?:just )?(?:sent|texted|emailed)|code (?:from|in) (?:the|your) (?:text|sms|email|app)|(?:6|six|4|four)[- ]digit code)\b/i,
  ],
  [
    'security_answer',
    /\bmaiden name|\b(?:pet|dog|cat)'?s?'? name|\bname of (?:your|my|the) (?:first |childhood |old )?(?:pet|dog|cat)|\bname\b[^.?!]{0,20}\b(?:pet|dog|cat)s?\b|\bsecurity (?:question|answer)|\bsecret (?:question|answer)|\bfirst (?:school|car|teacher)\b|\bcity (?:were you|you were) born\b|\bfavou?rite (?:teacher|color|colour|food|book|movie)\b/i,
  ],
  ['card_number', /\b(?:full |whole |entire |16[- ]digit |long )?card number\b(?![^.?!]*\blast)/i],
  [
    'ssn',
    /\bsocial security|\bssn\b|\bsocial insurance|\blast (?:4|four)(?: digits)? of (?:your |the |my )?(?:social|ssn)/i,
  ],
  ['cvv', /\bcvv2?\b|\bcvc\b|\bsecurity code on\b|\b3[- ]digit code\b|\bcode on the back\b/i],
];

/**
 * A clause asks for something when it is a question or a polite request. Statements ("I see your email is
 * on file", "thanks for your order number") ask for nothing.
 */
const REQUEST =
  /\?|\b(?:what(?:'s| is| was| are)?|which|can (?:you|i|we)|could (?:you|i|we)|may i|might i|would you|will you|please|pls|plz|provide|confirm|verify|tell me|give me|share|send (?:me|us|over)|need (?:your|the|you|to (?:get|have|know|verify|confirm))|i'?ll need|type (?:in|out)|enter|let me (?:have|get|know)|what about|mind (?:sharing|giving)|do you (?:have|know|remember)|go ahead)\b/i;

const STATEMENT =
  /\b(?:(?<!(?:may|can|could|do|would|will|should|shall|might) )i (?:can )?see|(?<!(?:may|can|could|do|would|will|should|shall|might) )i have|i've got|i found|thanks? (?:you )?for|got it|on file is|is on file)\b/i;

function requestClauses(text: string): string[] {
  const clauses = text.split(/(?<=[?.!;\n])\s+|\n+/);
  return clauses.filter((clause) => REQUEST.test(clause) && !(STATEMENT.test(clause) && !clause.includes('?')));
}

function mentions<K extends string>(
  table: ReadonlyArray<readonly [K, RegExp]>,
  text: string,
  onlyRequests: boolean,
): K[] {
  const found: Array<{ name: K; at: number }> = [];
  const clauses = onlyRequests ? requestClauses(text) : [text];
  let offset = 0;
  for (const clause of clauses) {
    for (const [name, pattern] of table) {
      const m = pattern.exec(clause);
      if (m && !found.some((f) => f.name === name)) found.push({ name, at: offset + m.index });
    }
    offset += clause.length + 1;
  }
  return found.sort((a, b) => a.at - b.at).map((f) => f.name);
}

/** Questions repeat (every agent asks "Could I get your full name, please?"): read each text once. */
function memo<T>(cache: Map<string, T>, text: string, compute: (text: string) => T): T {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const value = compute(text);
  if (cache.size >= 5000) cache.clear();
  cache.set(text, value);
  return value;
}

const secretCache = new Map<string, SecretKind[]>();
const factCache = new Map<string, string[]>();
const followUpCache = new Map<string, string[]>();

/** Secret kinds a question asks for (a PIN, a password, a one-time code, a security answer…). */
export function secretsAskedFor(text: string): SecretKind[] {
  return [...memo(secretCache, text, (t) => mentions(SECRET_MENTIONS, t, true))];
}

/**
 * A short follow-up that names a fact without asking ("Sorry, just the order ID.", "And the zip code.")
 * still narrows what the previous question asked for.
 */
export function factsMentionedInShortFollowUp(text: string): string[] {
  return [...memo(followUpCache, text, followUpFacts)];
}

function followUpFacts(text: string): string[] {
  if (text.split(/\s+/).length > 8 || /\b(?:i (?:can )?see|i have|is on file|thanks? (?:you )?for)\b/i.test(text))
    return [];
  return mentions(FACT_MENTIONS, text, false);
}

/** Which fact(s) a question asks for, in order of mention. */
export function factsAskedFor(text: string): string[] {
  return [...memo(factCache, text, askedFacts)];
}

function askedFacts(text: string): string[] {
  const secrets = secretsAskedFor(text);
  const facts = mentions(FACT_MENTIONS, text, true).filter((name) => {
    // "mother's maiden name" or "your pet's name" is a security question, not a name.
    if (name === 'full_name' && secrets.includes('security_answer')) {
      return /\b(?:full|first and last|legal) name\b/i.test(
        text.replace(/maiden name|(?:pet|dog|cat)'?s?'? name/gi, ''),
      );
    }
    if (name === 'card_last4' && secrets.includes('ssn')) return false;
    // "The name of your bank?" asks for something else.
    if (name === 'full_name' && /\bname of (?:your|the|a|an|this)\b/i.test(text)) {
      return /\b(?:full|first and last|legal|your) name\b/i.test(text);
    }
    if (name === 'username' || name === 'full_name') return true;
    return true;
  });
  // "your name" inside "your user name" is the username only.
  if (facts.includes('username') && facts.includes('full_name')) {
    const withoutUser = text.replace(/\buser\s?name/gi, '');
    if (!FACT_MENTIONS[0]![1].test(withoutUser)) return facts.filter((f) => f !== 'full_name');
  }
  // "email address" is not a street address.
  if (facts.includes('street_address')) {
    const withoutOthers = text.replace(/\b(?:e-?\s?mail|emial|ip|web|mac)\s+(?:address|adress|addres)\b/gi, '');
    if (!FACT_MENTIONS.find(([n]) => n === 'street_address')![1].test(withoutOthers)) {
      return facts.filter((f) => f !== 'street_address');
    }
  }
  return facts;
}
