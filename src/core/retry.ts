/**
 * Tries `work` again after a failure `retryable` accepts, up to `retries` more times, waiting
 * `delayMs` and doubling it each time. The last failure, or one not worth another try, is
 * rethrown as it was. Foundation: imports nothing.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  options: { retries: number; delayMs: number; retryable: (error: unknown) => boolean },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.retries || !options.retryable(error)) throw error;
      await new Promise((done) => setTimeout(done, options.delayMs * 2 ** attempt));
    }
  }
}
