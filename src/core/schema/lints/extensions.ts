import { compare, type LintContext, quoteIdent } from './util.js';

export function lintExtensions({ model, add }: LintContext): void {
  const extensions = Object.values(model.extensions).sort((a, b) => compare(a.name, b.name));
  for (const extension of extensions) {
    // extension_in_public: an extension installed in schema public.
    if (extension.schema === 'public') {
      add(
        'extension_in_public',
        extension.name,
        `Extension ${extension.name} is installed in schema public, so its objects are exposed with the API schema`,
        `Install it in another schema: ALTER EXTENSION ${quoteIdent(extension.name)} SET SCHEMA extensions (where supported), or drop and re-create it WITH SCHEMA extensions`,
      );
    }

    // extension_versions_outdated: an installed extension whose version is not the server's
    // default (recommended) version, as the advisor compares them (different, not older: the
    // default is what CREATE EXTENSION installs and ALTER EXTENSION UPDATE goes to). Platform
    // extensions included, as the advisor does. Needs `defaultVersion` (see above).
    const latest = extension.defaultVersion;
    if (latest && extension.version !== latest) {
      add(
        'extension_versions_outdated',
        extension.name,
        `Extension ${extension.name} is at version ${extension.version}, but the server's default version is ${latest}; an outdated version may miss security fixes`,
        `ALTER EXTENSION ${quoteIdent(extension.name)} UPDATE (to ${latest}), or create it without a VERSION clause`,
      );
    }
  }
}
