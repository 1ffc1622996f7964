import { SupagateError } from '../core/errors.js';

/**
 * Octokit failures as SupagateErrors: a code a script can branch on, a message that says
 * which call GitHub refused and why, and a hint naming the permission the workflow lacks.
 * Octokit redacts the token from its own errors; nothing here copies request headers.
 */
export interface GitHubCall {
  /** What supagate was doing, as a phrase: "update the plan comment on pull request #12". */
  what: string;
  /** The `permissions:` entry the call needs, e.g. `pull-requests: write`. */
  permission?: string;
  /** True for a write: a 403 on a write is most often a fork's read-only token. */
  write?: boolean;
}

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown; url?: string };
  request?: { method?: string; url?: string };
}

function isRequestError(error: unknown): error is RequestErrorLike {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { status?: unknown }).status === 'number' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}

export function statusOf(error: unknown): number | undefined {
  return isRequestError(error) ? error.status : undefined;
}

/** GitHub's own message (`Resource not accessible by integration`), not Octokit's decorated one. */
function apiMessage(error: RequestErrorLike): string {
  const data = error.response?.data;
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message;
  }
  return error.message.split(' - ')[0] ?? error.message;
}

const FORK_HINT =
  'A pull_request from a fork (and one opened by Dependabot) runs with a read-only GITHUB_TOKEN and no secrets, so supagate cannot comment or post statuses there; the plan result is still in the job summary.';

export function toGitHubError(error: unknown, call: GitHubCall): SupagateError {
  if (error instanceof SupagateError) return error;
  if (!isRequestError(error)) {
    const message = error instanceof Error ? error.message : String(error);
    return new SupagateError('GITHUB_API_FAILED', `Could not ${call.what}: ${message}`, {
      hint: 'GitHub could not be reached; check GITHUB_API_URL and the runner network.',
      cause: error,
    });
  }
  const status = error.status;
  const message = apiMessage(error);
  const details: Record<string, unknown> = {
    status,
    ...(error.request?.method ? { method: error.request.method } : {}),
    ...(error.request?.url ? { url: stripQuery(error.request.url) } : {}),
    ...(call.permission ? { permission: call.permission } : {}),
  };
  const headers = error.response?.headers ?? {};
  // Primary limit: remaining 0; secondary limit: retry-after or the message says so.
  const limited =
    status === 429 ||
    (status === 403 &&
      (String(headers['x-ratelimit-remaining']) === '0' ||
        headers['retry-after'] !== undefined ||
        /rate limit/i.test(message)));
  if (limited) {
    const retryAfter = Number(headers['retry-after']);
    const reset =
      headers['retry-after'] !== undefined && Number.isFinite(retryAfter)
        ? Math.floor(Date.now() / 1000) + retryAfter
        : Number(headers['x-ratelimit-reset']);
    return new SupagateError(
      'GITHUB_RATE_LIMITED',
      `GitHub rate-limited supagate while trying to ${call.what} (HTTP ${status}: ${message})`,
      {
        hint: Number.isFinite(reset)
          ? `The limit resets at ${new Date(reset * 1000).toISOString()}; re-run the job after that.`
          : 'Re-run the job in a few minutes.',
        details,
        cause: error,
      },
    );
  }
  if (status === 401 || status === 403) {
    const permission = call.permission ? ` Give the job \`permissions: { ${call.permission} }\`.` : '';
    return new SupagateError(
      'GITHUB_FORBIDDEN',
      `GitHub refused to let supagate ${call.what} (HTTP ${status}: ${message})`,
      {
        hint:
          status === 401
            ? 'The token is invalid or expired: check the `github-token` input.'
            : call.write
              ? `${FORK_HINT}${permission}`
              : `The token cannot read this.${permission}`,
        details,
        cause: error,
      },
    );
  }
  if (status === 404) {
    return new SupagateError('GITHUB_NOT_FOUND', `GitHub found nothing when supagate tried to ${call.what}`, {
      hint: 'Check the repository and number; a private repository also answers 404 to a token that cannot see it.',
      details,
      cause: error,
    });
  }
  return new SupagateError(
    'GITHUB_API_FAILED',
    `GitHub failed when supagate tried to ${call.what} (HTTP ${status}: ${message})`,
    {
      hint: status >= 500 ? 'GitHub had an error; re-run the job.' : 'GitHub rejected the request as sent.',
      details,
      cause: error,
    },
  );
}

/** Runs one API call, converting its failure. */
export async function github<T>(call: GitHubCall, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toGitHubError(error, call);
  }
}

function stripQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}
