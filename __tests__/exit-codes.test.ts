import { describe, expect, it } from 'vitest';
import { EXIT, planExit } from '../src/cli/program.js';
import type { PlanFailure } from '../src/core/commands/plan.js';
import { planGate } from '../src/core/commands/plan-gate.js';

const NOTHING = { problems: [], hazards: [], lints: { introduced: [], resolved: [], existingCount: 0 } };

function failure(kind: PlanFailure['kind']): PlanFailure {
  return {
    stage: 'migration',
    kind,
    message: 'extension "vector" is not available',
    hint: 'use --shadow-url',
  };
}

describe('plan exit codes', () => {
  it('exits 1 when the shadow lacks something (an environment problem), yet apply’s gate still refuses', () => {
    const result = { ...NOTHING, failure: failure('environment') };
    expect(planGate(result).blocking).toBe(true);
    expect(planExit({ blocking: true, failure: result.failure })).toBe(EXIT.error);
  });

  it('exits 3 when a migration fails on the shadow or something blocks, 0 otherwise', () => {
    expect(planExit({ blocking: true, failure: failure('migration') })).toBe(EXIT.blocking);
    expect(planExit({ blocking: true })).toBe(EXIT.blocking);
    expect(planExit({ blocking: false })).toBe(EXIT.ok);
  });
});
