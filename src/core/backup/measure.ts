import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** A pass-through that measures what flows through it: SHA-256 and size, read once it ended. */
export interface Measuring {
  stream: Transform;
  sha256(): string;
  sizeBytes(): number;
}

/** `onBytes`: told the size of each chunk (progress). */
export function measuring(onBytes?: (bytes: number) => void): Measuring {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(chunk.length);
      callback(null, chunk);
    },
  });
  let digest: string | undefined;
  return { stream, sha256: () => (digest ??= hash.digest('hex')), sizeBytes: () => size };
}
