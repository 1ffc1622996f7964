export * from './counts.js';
export * from './identity.js';
export * from './probes.js';
export * from './rls-invariants.js';
export * from './schema-check.js';
export * from './scripts.js';
export * from './verify.js';
