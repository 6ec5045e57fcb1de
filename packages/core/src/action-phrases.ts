/**
 * Turns back-office action names (`reset_password`, `trackShipment`, `ai.not_understood`) into words:
 * the phrases the brief writes ("reset your password") and the word stems the guard looks for in a
 * draft ("resetting your password"). General rules over tokens, not a table of known actions: an action
 * nobody listed still reads and matches sensibly.
 */

const IRREGULAR_PAST: Record<string, string> = {
  reset: 'reset',
  set: 'set',
  send: 'sent',
  resend: 'resent',
  find: 'found',
  get: 'got',
  put: 'put',
  run: 'ran',
  rerun: 'reran',
  read: 'read',
  pay: 'paid',
  freeze: 'froze',
  unfreeze: 'unfroze',
  take: 'took',
  make: 'made',
  give: 'gave',
  issue: 'issued',
  build: 'built',
  begin: 'began',
  shut: 'shut',
  hold: 'held',
};

/** Short verbs ending consonant-vowel-consonant whose final letter doubles (reset → resetting). */
const DOUBLING = new Set([
  'reset',
  'set',
  'stop',
  'ship',
  'reship',
  'get',
  'run',
  'rerun',
  'put',
  'plan',
  'shut',
  'flag',
  'tag',
]);

/** Verbs that can start an action name; other first tokens make the name read as noun + verb. */
const KNOWN_VERBS = new Set([
  'reset',
  'restart',
  'reboot',
  'reinstall',
  'install',
  'uninstall',
  'update',
  'upgrade',
  'change',
  'edit',
  'modify',
  'send',
  'resend',
  'check',
  'verify',
  'validate',
  'authenticate',
  'lookup',
  'look',
  'find',
  'get',
  'fetch',
  'search',
  'pull',
  'track',
  'trace',
  'refund',
  'cancel',
  'unlock',
  'lock',
  'block',
  'unblock',
  'freeze',
  'unfreeze',
  'clear',
  'delete',
  'remove',
  'add',
  'create',
  'open',
  'close',
  'activate',
  'reactivate',
  'deactivate',
  'enable',
  'disable',
  'replace',
  'reship',
  'ship',
  'issue',
  'reissue',
  'escalate',
  'schedule',
  'reschedule',
  'book',
  'report',
  'file',
  'submit',
  'apply',
  'confirm',
  'process',
  'retry',
  'run',
  'test',
  'sync',
  'link',
  'unlink',
  'transfer',
  'pay',
  'charge',
  'credit',
  'waive',
  'review',
  'request',
  'notify',
  'email',
  'text',
  'call',
  'log',
  'sign',
  'login',
  'list',
  'read',
  'set',
  'renew',
  'extend',
  'upgrade',
  'downgrade',
  'order',
  'return',
  'exchange',
  'dispute',
  // Back-office bookkeeping verbs (record_reason, enter_details, select_faq_answer, query_system): without
  // them a brief reads "handled the record reason".
  'record',
  'enter',
  'select',
  'query',
  'offer',
  'note',
  'save',
  'collect',
  'capture',
  'calculate',
  'estimate',
  'generate',
  'assign',
  'route',
  'flag',
  'tag',
  'approve',
  'reject',
  'deny',
  'upload',
  'attach',
  'match',
  'compare',
  'place',
  'hold',
  'release',
  'complete',
  'initiate',
]);

/** Words a draft may use for the verb of an action, by canonical verb. */
export const VERB_SYNONYMS: Record<string, readonly string[]> = {
  reset: ['reset'],
  restart: ['restart', 'reboot', 'relaunch', 'reopen', 'powercycle'],
  reboot: ['restart', 'reboot', 'powercycle'],
  reinstall: ['reinstall'],
  send: ['send', 'resend', 'email', 'text'],
  resend: ['send', 'resend', 'email', 'text'],
  check: ['check', 'lookup', 'review', 'inspect', 'examine', 'verify', 'test'],
  lookup: ['lookup', 'find', 'locate', 'search', 'check', 'pull', 'fetch'],
  look: ['lookup', 'find', 'locate', 'search', 'check', 'pull'],
  find: ['lookup', 'find', 'locate', 'search', 'check', 'pull'],
  get: ['lookup', 'find', 'get', 'fetch', 'check', 'pull'],
  fetch: ['lookup', 'find', 'get', 'fetch', 'check', 'pull'],
  search: ['lookup', 'find', 'search', 'check'],
  pull: ['lookup', 'pull', 'find', 'check'],
  track: ['track', 'trace', 'lookup', 'check', 'locate'],
  trace: ['track', 'trace', 'lookup', 'check', 'locate'],
  verify: ['verify', 'authenticate', 'confirm', 'validate'],
  validate: ['verify', 'validate', 'confirm'],
  authenticate: ['verify', 'authenticate', 'confirm'],
  refund: ['refund', 'reimburse'],
  cancel: ['cancel'],
  update: ['update', 'change', 'edit', 'modify'],
  change: ['update', 'change', 'edit', 'modify'],
  edit: ['update', 'change', 'edit', 'modify'],
  unlock: ['unlock', 'unblock', 'unfreeze'],
  unblock: ['unlock', 'unblock', 'unfreeze'],
  clear: ['clear', 'delete', 'wipe', 'empty'],
  delete: ['clear', 'delete', 'remove', 'wipe'],
  replace: ['replace', 'reship', 'resend', 'reissue'],
  reship: ['replace', 'reship', 'resend'],
  reissue: ['replace', 'reissue', 'resend'],
  activate: ['activate', 'reactivate', 'enable'],
  reactivate: ['activate', 'reactivate', 'enable'],
  enable: ['enable', 'activate', 'turn'],
  disable: ['disable', 'deactivate'],
  block: ['block', 'freeze', 'lock'],
  freeze: ['block', 'freeze', 'lock'],
  schedule: ['schedule', 'book', 'reschedule'],
  book: ['schedule', 'book'],
  report: ['report', 'file', 'submit'],
  file: ['report', 'file', 'submit'],
  submit: ['report', 'file', 'submit'],
  retry: ['retry', 'try'],
};

/** Words a draft may use for an object of an action, by canonical token. */
export const OBJECT_SYNONYMS: Record<string, readonly string[]> = {
  password: ['password', 'pw', 'passcode', 'passphrase'],
  app: ['app', 'application'],
  login: ['login', 'signin', 'logon'],
  shipment: ['shipment', 'package', 'parcel', 'delivery', 'order', 'tracking'],
  package: ['shipment', 'package', 'parcel', 'delivery', 'order'],
  order: ['order', 'purchase', 'package'],
  identity: ['identity', 'identification', 'id'],
  id: ['identity', 'identification', 'id'],
  link: ['link'],
  code: ['code', 'otp', 'passcode'],
  otp: ['code', 'otp', 'passcode'],
  cache: ['cache', 'cookie', 'browsing'],
  device: ['device', 'phone'],
  mfa: ['mfa'],
  eligibility: ['eligibility', 'eligible'],
  phone: ['phone', 'device', 'mobile'],
  card: ['card'],
  address: ['address'],
  subscription: ['subscription', 'plan', 'membership'],
  payment: ['payment', 'charge', 'transaction'],
  charge: ['charge', 'payment', 'transaction'],
  transaction: ['transaction', 'charge', 'payment'],
  browser: ['browser'],
  router: ['router', 'modem'],
  modem: ['router', 'modem'],
};

/** Object tokens too generic to identify an action on their own. */
const GENERIC_OBJECTS = new Set(['status', 'info', 'information', 'details', 'data', 'settings', 'record', 'records']);

const POSSESSABLE = new Set([
  'password',
  'account',
  'order',
  'card',
  'identity',
  'app',
  'address',
  'email',
  'phone',
  'subscription',
  'payment',
  'device',
  'shipment',
  'package',
  'refund',
  'balance',
  'username',
  'profile',
  'appointment',
  'referral',
  'prescription',
  'claim',
  'statement',
  'pin',
  'cache',
  'browser',
  'router',
  'modem',
  'membership',
  'plan',
]);

/** Words whose phrase in the brief reads better than their token. */
const DISPLAY: Record<string, string> = {
  mfa: 'two-step verification',
  otp: 'one-time code',
  id: 'ID',
  faq: 'FAQ',
  pin: 'PIN',
  sms: 'SMS',
  url: 'URL',
  login: 'login',
  eligibility: 'eligibility',
};

/** Splits `reset_password`, `resetPassword`, `ai.not-understood` into lowercase tokens. */
const tokensByName = new Map<string, readonly string[]>();

export function actionTokens(name: string): string[] {
  // The brief splits every action's name several times per build; callers get their own copy to change.
  let tokens = tokensByName.get(name);
  if (!tokens) {
    if (tokensByName.size >= 1000) tokensByName.clear();
    tokens = splitActionName(name);
    tokensByName.set(name, tokens);
  }
  return [...tokens];
}

function splitActionName(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A crude stemmer shared by the guard's draft side and action side, so both reduce to the same form:
 * resetting/reset/resets → reset, restarted/restarting → restart, updating/update → updat.
 */
export function stem(word: string): string {
  let w = word.toLowerCase().replace(/['’]s$/, '');
  const irregular: Record<string, string> = {
    sent: 'send',
    resent: 'resend',
    found: 'find',
    got: 'get',
    gotten: 'get',
    tried: 'try',
    tries: 'try',
    paid: 'pay',
    froze: 'freeze',
    frozen: 'freeze',
    ran: 'run',
    made: 'make',
    took: 'take',
    gave: 'give',
  };
  const known = irregular[w];
  if (known) w = known;
  if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
  else if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('es') && !w.endsWith('ses')) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  if (w.length > 3 && /([bcdfgklmnprstvz])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

export function pastTense(verb: string): string {
  const irregular = IRREGULAR_PAST[verb];
  if (irregular) return irregular;
  if (verb.endsWith('e')) return `${verb}d`;
  if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ied`;
  if (DOUBLING.has(verb)) return `${verb}${verb.slice(-1)}ed`;
  return `${verb}ed`;
}

export function gerund(verb: string): string {
  if (DOUBLING.has(verb)) return `${verb}${verb.slice(-1)}ing`;
  if (verb.endsWith('ie')) return `${verb.slice(0, -2)}ying`;
  if (verb.endsWith('e') && !verb.endsWith('ee')) return `${verb.slice(0, -1)}ing`;
  return `${verb}ing`;
}

export interface ActionWords {
  name: string;
  /** Canonical verb ("reset"), or undefined when the name has none ("password" alone). */
  verb?: string;
  /** Object tokens ("password"), generic ones last. */
  objects: string[];
  /** "reset your password" */
  phrase: string;
  /** "reset your password" as a past-tense clause: "reset your password", "tracked your shipment" */
  past: string;
  /** "resetting your password" */
  gerund: string;
}

function objectPhrase(objects: readonly string[]): string {
  if (objects.length === 0) return '';
  const words = objects.map((token) => DISPLAY[token] ?? token);
  const head = objects[objects.length - 1] ?? '';
  const determiner = POSSESSABLE.has(head) || POSSESSABLE.has(objects[0] ?? '') ? 'your' : 'the';
  return `${determiner} ${words.join(' ')}`;
}

const cache = new Map<string, ActionWords>();

/** Nouns an action name made of nouns alone looks up ("bank_balance" → "checked your bank balance"). */
const LOOKED_UP = new Set([
  'balance',
  'balances',
  'weather',
  'status',
  'details',
  'info',
  'information',
  'history',
  'availability',
  'eligibility',
  'forecast',
  'rates',
  'hours',
]);

/** The words of an action name. Pure and memoised: action names come from a small vocabulary. */
export function actionWords(name: string): ActionWords {
  const hit = cache.get(name);
  if (hit) return hit;
  let tokens = actionTokens(name).filter((token) => token !== 'ai' && token !== 'bot' && token !== 'api');
  // look_up_order, log_in, sign_in: two-token verbs
  const joined: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const next = tokens[i + 1];
    if ((token === 'look' || token === 'pull') && next === 'up') {
      joined.push('lookup');
      i++;
    } else if ((token === 'log' || token === 'sign') && next === 'in') {
      joined.push('login');
      i++;
    } else joined.push(token);
  }
  tokens = joined;
  let verb: string | undefined;
  let objects: string[];
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (first !== undefined && KNOWN_VERBS.has(first) && tokens.length > 1) {
    verb = first;
    objects = tokens.slice(1);
  } else if (last !== undefined && KNOWN_VERBS.has(last) && tokens.length > 1) {
    // password_reset, identity_verification-style names: noun first, verb last
    verb = last;
    objects = tokens.slice(0, -1);
  } else if (first !== undefined && tokens.length === 1 && KNOWN_VERBS.has(first)) {
    verb = first;
    objects = [];
  } else {
    objects = tokens;
  }
  if (verb === 'login') {
    // "check_login" reads as an object; a bare "login" action is the act of logging in.
    objects = objects.length ? objects : ['login'];
    verb = objects.length > 1 ? verb : 'try';
  }
  objects = objects.filter((token) => !['to', 'the', 'a', 'an', 'for', 'of', 'my', 'your'].includes(token));
  const object = objectPhrase(objects);
  // A name that is only a noun (bank_balance, weather, order_status) is a lookup; the words say so, but it
  // keeps no verb for the guard to match.
  const v = verb ?? (LOOKED_UP.has(objects[objects.length - 1] ?? '') ? 'check' : 'handle');
  const phrase = `${v === 'lookup' ? 'look up' : v} ${object}`.trim();
  const past = `${v === 'lookup' ? 'looked up' : pastTense(v)} ${object}`.trim();
  const ger = `${v === 'lookup' ? 'looking up' : gerund(v)} ${object}`.trim();
  const words: ActionWords = { name, objects, phrase, past, gerund: ger };
  if (verb !== undefined) words.verb = verb;
  cache.set(name, words);
  return words;
}

export interface ActionMatcher {
  name: string;
  /** Stems a draft may use for the verb; empty when the action has no verb. */
  verbs: Set<string>;
  /** Stems for the specific objects; empty when the action has none. */
  objects: Set<string>;
  /** The stems of the name's own verb and objects, which outrank synonyms when two actions compete. */
  own: Set<string>;
}

const matchers = new Map<string, ActionMatcher>();

/** Builds the stem sets the guard looks for in a draft to recognise a mention of this action. */
export function actionMatcher(name: string): ActionMatcher {
  // Preparing a guard for a long log meets the same few action names hundreds of times; nothing mutates a matcher.
  let matcher = matchers.get(name);
  if (!matcher) {
    if (matchers.size >= 1000) matchers.clear();
    matcher = buildActionMatcher(name);
    matchers.set(name, matcher);
  }
  return matcher;
}

function buildActionMatcher(name: string): ActionMatcher {
  const words = actionWords(name);
  const verbs = new Set<string>();
  if (words.verb) {
    for (const synonym of VERB_SYNONYMS[words.verb] ?? [words.verb]) verbs.add(stem(synonym));
    verbs.add(stem(words.verb));
  }
  const specific = words.objects.filter((token) => !GENERIC_OBJECTS.has(token));
  const objects = new Set<string>();
  for (const token of specific.length ? specific : words.objects) {
    for (const synonym of OBJECT_SYNONYMS[token] ?? [token]) objects.add(stem(synonym));
  }
  const own = new Set([...(words.verb ? [stem(words.verb)] : []), ...words.objects.map(stem)]);
  return { name, verbs, objects, own };
}
