// Everything a request handler needs, passed in (smart-forms style): no handler reaches for globals, so tests
// and the CLI build a context the same way the server does. createGatewayContext wires it from the data on disk
// (forms, profiles, search parameters) and a store.
import { join } from 'node:path';
import { systemClock, type Clock } from '../base/clock.js';
import { PROJECT_ROOT } from '../base/project.js';
import { createAccessPolicy, type AccessPolicy } from './access/policy.js';
import type { FormDocument } from './forms/assemble-document.js';
import { loadFormRegistry, type FormRegistry } from './forms/registry.js';
import { loadSearchParameters, type SearchParameterRegistry } from './search/search-parameters.js';
import type { Store } from './storage/store.js';
import { createFhirValidator, type FhirValidator } from './validation/fhir-validator.js';

export interface DocumentEvents {
  /** Called after a document has been committed (metrics). */
  stored?(form: string): void;
}

/**
 * Builds a form document (translate + validate, no store): inline by default; the server hands it to worker
 * threads so this CPU work runs beside the I/O on the other cores (services/documents/build-pool.ts).
 */
export interface DocumentBuilder {
  build(form: string, submitter: string, payload: unknown, now: string): Promise<FormDocument>;
}

export interface GatewayContext {
  store: Store;
  forms: FormRegistry;
  validator: FhirValidator;
  searchParams: SearchParameterRegistry;
  policy: AccessPolicy;
  clock: Clock;
  events?: DocumentEvents;
  builder?: DocumentBuilder;
}

export async function createGatewayContext(
  store: Store,
  opts: { clock?: Clock; root?: string } = {},
): Promise<GatewayContext> {
  const root = opts.root ?? PROJECT_ROOT;
  const forms = loadFormRegistry(root);
  const validator = await createFhirValidator({ profilesDir: join(root, 'profiles') });
  return {
    store,
    forms,
    validator,
    searchParams: loadSearchParameters(join(root, 'profiles')),
    policy: createAccessPolicy(forms.forms),
    clock: opts.clock ?? systemClock,
  };
}
