import { createHash } from 'node:crypto';

/**
 * Line endings and a UTF-8 byte order mark are editor artefacts, not part of a migration:
 * a file checked out with CRLF on Windows must have the same checksum as on Linux.
 */
export function normalizeSource(text: string): string {
  return text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
}

/** SHA-256 (hex) of the normalized source. */
export function checksumOf(text: string): string {
  return createHash('sha256').update(normalizeSource(text), 'utf8').digest('hex');
}
