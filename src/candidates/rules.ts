/**
 * The rules a candidate must satisfy, in one place: the HTTP schemas are built
 * from these numbers and lists, so the contract and the checks cannot drift.
 */

export const PRODUCTS = ['apples', 'oranges', 'grapes', 'bananas', 'mangoes'] as const;
export type Product = (typeof PRODUCTS)[number];

/** Largest value of PostgreSQL's `integer`: the counts are stored there, so a larger one must be refused, not overflow. */
export const PG_INT_MAX = 2_147_483_647;

export const LIMITS = {
  companyName: 255,
  /** The longest address SMTP carries (RFC 5321), as the Python validator enforced. */
  email: 254,
  phone: 50,
  location: 255,
  rejectionReason: 1000,
  pageSize: 100,
  /** Items in `products`: each is one of five names, so more only repeats them (a 100,000-item list was stored once). */
  products: 20,
} as const;

export const STATUSES = ['pending', 'approved', 'rejected'] as const;
export type Status = (typeof STATUSES)[number];

/**
 * Top-level names reserved for special use (RFC 6761 and friends), which the
 * Python service's validator (email-validator) refuses, so we do too.
 */
const SPECIAL_USE_DOMAINS = ['arpa', 'invalid', 'local', 'localhost', 'onion', 'test'];

// Letters, digits and the specials RFC 5322 allows in a dot-atom; any non-ASCII
// character passes too, as internationalised addresses (SMTPUTF8) are accepted.
const LOCAL_CHAR = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-\u0080-\uFFFF]$/u;
const DOMAIN_CHAR = /^[A-Za-z0-9.\-\u0080-\uFFFF]$/u;
const FORBIDDEN_UNICODE = /[\p{Cc}\p{Cf}\p{Z}\p{Cs}]/u;

function firstBad(text: string, allowed: RegExp): string | undefined {
  for (const ch of text) if (!allowed.test(ch) || FORBIDDEN_UNICODE.test(ch)) return ch;
  return undefined;
}

/**
 * Why `address` is not an acceptable e-mail address, in the words of the
 * Python service's validator, or undefined when it is acceptable. Syntax only:
 * nothing is looked up in DNS, as before (check_deliverability was off).
 */
export function emailProblem(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0) return 'An email address must have an @-sign.';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const length = [...address].length;
  if (length > LIMITS.email) return `The email address is too long (${length - LIMITS.email} characters too many).`;
  if (local === '') return 'There must be something before the @-sign.';
  if (domain === '') return 'There must be something after the @-sign.';
  const badLocal = firstBad(local, LOCAL_CHAR);
  if (badLocal !== undefined) return `The email address contains invalid characters before the @-sign: '${badLocal}'.`;
  if ([...local].length > 64) return `The email address is too long before the @-sign (${[...local].length - 64} characters too many).`;
  if (local.startsWith('.')) return 'An email address cannot start with a period.';
  if (local.endsWith('.')) return 'An email address cannot have a period immediately before the @-sign.';
  if (local.includes('..')) return 'An email address cannot have two periods in a row.';
  const badDomain = firstBad(domain, DOMAIN_CHAR);
  if (badDomain !== undefined) return `The part after the @-sign contains invalid characters: '${badDomain}'.`;
  if (domain.startsWith('.')) return 'An email address cannot have a period immediately after the @-sign.';
  if (domain.endsWith('.')) return 'An email address cannot end with a period.';
  if (domain.includes('..')) return 'An email address cannot have two periods in a row.';
  const labels = domain.toLowerCase().split('.');
  if (labels.length < 2) return 'The part after the @-sign is not valid. It should have a period.';
  if (labels.some((l) => l.startsWith('-') || l.endsWith('-'))) {
    return 'The part after the @-sign is not valid. A label cannot start or end with a hyphen.';
  }
  if (labels.some((l) => l.length > 63)) return 'The part after the @-sign is not valid. A label is too long.';
  const tld = labels[labels.length - 1] ?? '';
  if (/^[0-9]+$/.test(tld)) return 'The part after the @-sign is not valid. It is not within a valid top-level domain.';
  if (SPECIAL_USE_DOMAINS.includes(tld)) {
    return 'The part after the @-sign is a special-use or reserved name that cannot be used with email.';
  }
  return undefined;
}

/**
 * The form in which an address is stored and compared for uniqueness: the
 * Python service kept its validator's normalised form (NFC, domain in lower
 * case), so `a@Example.COM` and `a@example.com` are one candidate.
 */
export function normalizeEmail(address: string): string {
  const at = address.lastIndexOf('@');
  return (address.slice(0, at) + '@' + address.slice(at + 1).toLowerCase()).normalize('NFC');
}

/**
 * Text PostgreSQL can store as sent: no U+0000 (text refuses it) and no lone
 * surrogate (UTF-8 cannot hold one, so it would be stored as U+FFFD). The
 * validators match with the `u` flag, where a surrogate pair is one code
 * point and passes.
 */
export const STORABLE_TEXT_PATTERN = '^[^\\u0000\\uD800-\\uDFFF]*$';
