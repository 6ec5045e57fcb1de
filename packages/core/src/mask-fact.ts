import { digitsOf, parseDate } from './fact-values.ts';

function keepLast(value: string, visible: number): string {
  let seen = 0;
  const chars = [...value];
  for (let i = chars.length - 1; i >= 0; i -= 1) {
    const c = chars[i] ?? '';
    if (/[\p{L}\p{N}]/u.test(c)) {
      seen += 1;
      if (seen > visible) chars[i] = '*';
    }
  }
  return chars.join('');
}

/**
 * Masks a fact value for a role that may not see it in full: enough is left to recognise it ("the email
 * starting with d at example.com") and not enough to use it.
 */
export function maskFact(name: string, value: string): string {
  const v = value.trim();
  if (!v) return v;
  switch (name) {
    case 'email': {
      const at = v.lastIndexOf('@');
      if (at <= 0) return keepLast(v, 2);
      return `${v.charAt(0)}***${v.slice(at)}`;
    }
    case 'phone': {
      const digits = digitsOf(v);
      return digits.length >= 4 ? `***-***-${digits.slice(-4)}` : '***';
    }
    case 'card_last4':
      return `**** ${digitsOf(v).slice(-4)}`;
    case 'date_of_birth': {
      const iso = parseDate(v);
      return iso ? `****-**-${iso.slice(8)}` : '**/**/****';
    }
    case 'full_name':
      return v
        .split(/\s+/)
        .map((part, i) => (i === 0 ? part : `${part.charAt(0)}.`))
        .join(' ');
    case 'street_address':
      return v.replace(/\d/g, '*');
    case 'zip_code':
      return v.length > 3 ? `${v.slice(0, 3)}${'*'.repeat(v.length - 3)}` : '***';
    case 'username':
      return v.length > 2 ? `${v.slice(0, 2)}${'*'.repeat(Math.min(6, v.length - 2))}` : '**';
    case 'amount':
      return v;
    default:
      return keepLast(v, 4);
  }
}
