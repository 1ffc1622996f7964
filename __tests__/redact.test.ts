import { describe, expect, it } from 'vitest';
import { redact, registerSecret } from '../src/core/db/redact.js';
import { codeBlock, inline } from '../src/core/report/escape.js';
import { renderJson } from '../src/core/report/json.js';

describe('redaction', () => {
  it('replaces a distinctive secret wherever it appears, also percent-encoded', () => {
    registerSecret('S3cret-p@ss/word!');
    const text = `comment on table t is 'S3cret-p@ss/word!'; url ${encodeURIComponent('S3cret-p@ss/word!')}`;
    expect(redact(text)).toBe("comment on table t is '***'; url ***");
  });

  it('leaves ordinary words alone when a password is one, and masks it where it is a credential', () => {
    registerSecret('postgres');
    const text =
      'role postgres owns public.posts; postgresql://postgres:postgres@db:5432/postgres; host=db password=postgres; {"password": "postgres"}';
    expect(redact(text)).toBe(
      'role postgres owns public.posts; postgresql://postgres:***@db:5432/postgres; host=db password=***; {"password": "***"}',
    );
  });

  it('masks well-known token shapes that nobody registered', () => {
    const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.${'a'.repeat(43)}`;
    const text = `headers := '{"Authorization": "Bearer ${jwt}"}' ghp_${'x'.repeat(36)} sk_live_${'4'.repeat(24)} AKIAABCDEFGHIJKLMNOP`;
    const out = redact(text);
    expect(out).toBe(`headers := '{"Authorization": "Bearer ***"}' *** *** ***`);
  });

  it('does not garble SQL that talks about passwords', () => {
    const sql = 'update auth.users set encrypted_password = crypt(new.password, gen_salt($$bf$$))';
    expect(redact(sql)).toBe(sql);
  });

  it('redacts before markdown escaping, so an escaped secret cannot slip through', () => {
    registerSecret('tok-1234.5678_abcd');
    expect(inline('leak tok-1234.5678_abcd')).not.toContain('1234');
    expect(codeBlock('select $$tok-1234.5678_abcd$$')).not.toContain('1234');
  });

  it('redacts JSON values before escaping them', () => {
    registerSecret('quote"and\\slash-secret');
    const json = renderJson({ message: 'x quote"and\\slash-secret y' }, true);
    expect(json).not.toContain('slash-secret');
    expect(JSON.parse(json).message).toBe('x *** y');
  });
});
