// unzip-stream (a dependency of @actions/artifact, which extracts artifacts with it) ships no types.
declare module 'unzip-stream' {
  import type { Readable, Transform } from 'node:stream';

  export interface Entry extends Readable {
    path: string;
    type: 'File' | 'Directory';
    size?: number;
    autodrain(): void;
  }

  export function Parse(options?: { decodeString?: (buffer: Buffer) => string }): Transform;
}
