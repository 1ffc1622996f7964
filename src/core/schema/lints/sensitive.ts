/**
 * Sensitive column names (sensitive_columns_exposed). A name is split into words (on `_`, `-`,
 * spaces and camelCase; lower-cased) and is sensitive when it contains one of these word
 * sequences: password, passwd, pwd, passphrase, secret, private key, signing key, encryption
 * key, api key, apikey, access key, auth key, token, jwt, otp, recovery code(s), ssn, social
 * security number, national id, tax id, passport number, driver(s) license, credit card, card
 * number, cc number, cvv, cvc, iban, bank account, account number, routing number. It is not
 * sensitive when the name goes on after the match and ends with a word that makes it metadata
 * about the secret rather than the secret (at, on, id, count, type, kind, expires, expiry,
 * expiration, hint, enabled, required, set, length, changed, updated, created, version, used):
 * `password_changed_at`, `token_count`, `token_id` are not sensitive; `reset_token`,
 * `password_hash`, `stripe_api_key` are.
 */
export const SENSITIVE_COLUMN_WORDS: readonly string[] = [
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'secret',
  'private key',
  'signing key',
  'encryption key',
  'api key',
  'apikey',
  'access key',
  'auth key',
  'token',
  'jwt',
  'otp',
  'recovery code',
  'recovery codes',
  'ssn',
  'social security number',
  'national id',
  'tax id',
  'passport number',
  'driver license',
  'drivers license',
  'credit card',
  'card number',
  'cc number',
  'cvv',
  'cvc',
  'iban',
  'bank account',
  'account number',
  'routing number',
];

const METADATA_SUFFIXES = new Set([
  'at',
  'on',
  'id',
  'count',
  'type',
  'kind',
  'expires',
  'expiry',
  'expiration',
  'hint',
  'enabled',
  'required',
  'set',
  'length',
  'changed',
  'updated',
  'created',
  'version',
  'used',
]);

export function isSensitiveColumnName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  for (const term of SENSITIVE_COLUMN_WORDS) {
    const sequence = term.split(' ');
    for (let start = 0; start + sequence.length <= words.length; start++) {
      if (!sequence.every((w, k) => words[start + k] === w)) continue;
      const end = start + sequence.length;
      const last = words[words.length - 1] ?? '';
      if (end < words.length && METADATA_SUFFIXES.has(last)) continue;
      return true;
    }
  }
  return false;
}
