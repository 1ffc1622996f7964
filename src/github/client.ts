import { getOctokit } from '@actions/github';
import { SupagateError } from '../core/errors.js';

/** The Octokit that @actions/github hands out: REST methods and `paginate`. */
export type Octokit = ReturnType<typeof getOctokit>;

export interface ClientOptions {
  /** REST API root; default GITHUB_API_URL, else https://api.github.com (GHES: https://host/api/v3). */
  baseUrl?: string;
  /** Where GITHUB_API_URL is read from (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  userAgent?: string;
}

export const DEFAULT_API_URL = 'https://api.github.com';

/**
 * An Octokit for `token`. The base URL is passed explicitly: @actions/github reads
 * GITHUB_API_URL once, when it is first imported, which is too early for anything that sets
 * the variable later (tests, a wrapper).
 */
export function createOctokit(token: string | undefined, options: ClientOptions = {}): Octokit {
  const trimmed = token?.trim();
  if (!trimmed) {
    throw new SupagateError('GITHUB_TOKEN_MISSING', 'No GitHub token was given', {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
      hint: 'Pass `github-token: ${{ github.token }}` (the default) and grant the job the permissions it needs, e.g. `permissions: { contents: read, pull-requests: write, statuses: write }`.',
    });
  }
  const env = options.env ?? process.env;
  const baseUrl = (options.baseUrl ?? env.GITHUB_API_URL ?? DEFAULT_API_URL).replace(/\/+$/, '');
  return getOctokit(trimmed, {
    baseUrl,
    userAgent: options.userAgent ?? 'supagate',
  });
}

/**
 * GitHub's clock: the Date header of GET /rate_limit (which uses no quota). Times supagate
 * records are compared with times GitHub stamps (review submissions), so they come from the
 * same clock; this machine's clock only when GitHub does not answer.
 */
export async function githubNow(octokit: Octokit): Promise<Date> {
  try {
    const { headers } = await octokit.request('GET /rate_limit');
    const parsed = Date.parse(String(headers.date ?? ''));
    if (!Number.isNaN(parsed)) return new Date(parsed);
  } catch {
    // GHES without rate limiting answers 404 here: the local clock will do.
  }
  return new Date();
}
