import { expect } from 'vitest';
import { SupagateError } from '../../src/core/errors.js';

/** The SupagateError a promise rejects with; fails the test when it resolves or throws anything else. */
export async function rejection(promise: Promise<unknown>): Promise<SupagateError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SupagateError);
  return error as SupagateError;
}
