import type { Routine } from '../model.js';
import { API_ROLES, holds, isManagedSchema, type LintContext, sortedEntries } from './util.js';

/** The rules about functions and procedures in user schemas. */
export function lintFunctions({ model, api, add }: LintContext): void {
  const functions = sortedEntries(model.functions).filter(([, f]) => !isManagedSchema(f.schema));

  for (const [id, routine] of functions) {
    // function_search_path_mutable: a function or procedure in a user schema whose config
    // (proconfig) has no `search_path` entry, so it resolves names through the caller's
    // search_path. Trigger functions included, as the advisor does. Aggregates (which cannot
    // carry SET) are not linted.
    if (routine.kind !== 'aggregate' && !routine.config.some((c) => /^search_path=/i.test(c))) {
      add(
        'function_search_path_mutable',
        id,
        `${routine.kind === 'procedure' ? 'Procedure' : 'Function'} ${id} has no fixed search_path, so the objects it names are resolved through the caller's search_path`,
        `ALTER ${routine.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION'} ${id} SET search_path = '' (and schema-qualify the names in its body)`,
      );
    }

    // anon_/authenticated_security_definer_function_executable: a SECURITY DEFINER function in
    // an API schema that the role can EXECUTE, granted to it or to PUBLIC. As the advisor
    // (which checks has_function_privilege on every SECURITY DEFINER pg_proc row), functions
    // returning trigger or event_trigger are included: the Data API cannot call them, but the
    // grant is as needless as it is common (CREATE FUNCTION grants EXECUTE to PUBLIC), and
    // revoking it costs nothing since EXECUTE is checked when a trigger is created, not when
    // it fires. Procedures are not linted (PostgREST does not call them; a deliberate
    // difference from the advisor).
    if (api.has(routine.schema) && routine.kind === 'function' && routine.securityDefiner) {
      const trigger = isTriggerFunction(routine);
      for (const role of API_ROLES) {
        if (!holds(routine.grants, role, 'EXECUTE')) continue;
        const via = routine.grants.some((g) => g.grantee === role && g.privilege === 'EXECUTE')
          ? ''
          : ' (via PUBLIC)';
        add(
          `${role}_security_definer_function_executable`,
          id,
          trigger
            ? `${role}${via} holds EXECUTE on SECURITY DEFINER ${routine.returns} function ${id}; it cannot be called through the Data API, but it runs with the rights of its owner (${routine.owner}) and ${role} needs no EXECUTE for it to fire`
            : `${role}${via} can call SECURITY DEFINER function ${id} through /rest/v1/rpc/${routine.name}; it runs with the rights of its owner (${routine.owner})`,
          trigger
            ? `REVOKE EXECUTE ON FUNCTION ${id} FROM PUBLIC, ${role}: the ${routine.returns === 'trigger' ? 'triggers' : 'event triggers'} using it keep firing (EXECUTE is checked when a trigger is created, not when it fires)`
            : `REVOKE EXECUTE ON FUNCTION ${id} FROM PUBLIC, ${role} if ${role} must not call it; otherwise make it SECURITY INVOKER or move it to a schema that is not exposed`,
        );
      }
    }
  }
}

function isTriggerFunction(routine: Routine): boolean {
  return routine.returns === 'trigger' || routine.returns === 'event_trigger';
}
