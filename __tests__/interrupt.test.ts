import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  INTERRUPT_EXIT_CODES,
  interruptReceived,
  interruptReport,
  onInterrupt,
  removeOnInterrupt,
  resetInterruptState,
  runInterruptCleanups,
  throwIfInterrupted,
} from '../src/core/interrupt.js';
import { rejection } from './harness/errors.js';

afterEach(() => resetInterruptState());

describe('the interrupt registry', () => {
  it('runs what is registered, newest first, and forgets what was unregistered', async () => {
    const order: string[] = [];
    onInterrupt('lock', async () => {
      order.push('lock');
      return 'released the lock';
    });
    const forget = onInterrupt('gone', async () => {
      order.push('gone');
      return undefined;
    });
    onInterrupt('dump', async () => {
      order.push('dump');
      return ['stopped pg_dump', 'deleted the partial dump'];
    });
    forget();
    const outcome = await runInterruptCleanups('SIGTERM');
    expect(order).toEqual(['dump', 'lock']);
    expect(outcome).toEqual({
      done: ['stopped pg_dump', 'deleted the partial dump', 'released the lock'],
      failed: [],
    });
    expect(interruptReceived()).toBe('SIGTERM');
    expect((await runInterruptCleanups('SIGTERM')).done).toEqual([]);
  });

  it('reports a cleanup that fails as not done, and goes on with the others', async () => {
    onInterrupt('releasing the lock', async () => 'released the lock');
    onInterrupt('stopping the statement', async () => {
      throw new Error('the server does not answer');
    });
    const outcome = await runInterruptCleanups('SIGINT');
    expect(interruptReport('SIGINT', outcome)).toBe(
      '  ✓ released the lock\n  ✗ not done: stopping the statement: the server does not answer\nStopped by SIGINT; exit code 130.\n',
    );
    expect(INTERRUPT_EXIT_CODES).toEqual({ SIGINT: 130, SIGTERM: 143 });
  });

  it('deletes registered files, and stops work between steps', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'supagate-interrupt-unit-'));
    await writeFile(join(dir, 'backup.dump'), 'plaintext');
    removeOnInterrupt(dir, 'the decrypted backup');
    throwIfInterrupted();
    const outcome = await runInterruptCleanups('SIGINT');
    expect(outcome.done).toEqual([`deleted the decrypted backup (${dir})`]);
    expect(existsSync(dir)).toBe(false);
    const error = await rejection(Promise.resolve().then(throwIfInterrupted));
    expect(error.code).toBe('INTERRUPTED');
    expect(error.message).toBe('Interrupted by SIGINT');
  });

  it('says so when nothing needed stopping', () => {
    expect(interruptReport('SIGTERM', { done: [], failed: [] })).toBe(
      '  nothing was running that needed stopping\nStopped by SIGTERM; exit code 143.\n',
    );
  });
});
