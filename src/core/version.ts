/** supagate's version, recorded in the audit log. Kept equal to package.json by a test. */
export const VERSION = '0.1.0';
