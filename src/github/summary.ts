import { stat } from 'node:fs/promises';
import * as core from '@actions/core';
import { fitMarkdown } from './trim.js';

/**
 * The job summary (GITHUB_STEP_SUMMARY). The runner drops a step's summary that exceeds
 * 1 MiB, so supagate cuts its own on purpose below that, counting what the step already
 * wrote, and says where the rest is.
 */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024;

/** Slack under the limit, for the note and rounding. */
const MARGIN_BYTES = 4 * 1024;

export interface SummaryOptions {
  /** Default 1 MiB. */
  limitBytes?: number;
  /** Where the untrimmed report is (an artifact, report_path). */
  fullReportHint?: string;
}

export interface SummaryResult {
  written: boolean;
  trimmed: boolean;
  /** UTF-8 bytes written. */
  bytes: number;
}

export async function writeJobSummary(
  markdown: string,
  options: SummaryOptions = {},
): Promise<SummaryResult> {
  // core.summary writes where GITHUB_STEP_SUMMARY points; measure that same file.
  const path = process.env.GITHUB_STEP_SUMMARY;
  if (!path) return { written: false, trimmed: false, bytes: 0 };
  const limit = options.limitBytes ?? STEP_SUMMARY_LIMIT_BYTES;
  const already = await stat(path).then(
    (s) => s.size,
    () => 0,
  );
  const room = Math.max(0, limit - already - MARGIN_BYTES);
  const fitted = fitMarkdown(markdown.endsWith('\n') ? markdown : `${markdown}\n`, {
    maxBytes: room,
    note: `This summary was cut to stay under GitHub's 1 MiB limit for a step's job summary.${
      options.fullReportHint ? ` The full report: ${options.fullReportHint}` : ''
    }`,
  });
  const text = fitted.text.endsWith('\n') ? fitted.text : `${fitted.text}\n`;
  if (text.trim() === '') return { written: false, trimmed: fitted.trimmed, bytes: 0 };
  await core.summary.addRaw(text).write();
  return { written: true, trimmed: fitted.trimmed, bytes: Buffer.byteLength(text, 'utf8') };
}
