// Everything a request handler needs, passed in (smart-forms style): no handler reaches for globals, so tests
// and the CLI build a context the same way the server does. createGatewayContext wires it from the data on disk
// (forms, profiles, search parameters) and a store.
import { join } from 'node:path';
import { systemClock, type Clock } from '../base/clock.js';
import { PROJECT_ROOT } from '../base/project.js';
import { createAccessPolicy, type AccessPolicy } from './access/policy.js';
import { loadFormRegistry, type FormRegistry } from './forms/registry.js';
import { loadSearchParameters, type SearchParameterRegistry } from './search/search-parameters.js';
import type { Store } from './storage/store.js';
import { createFhirValidator, type FhirValidator } from './validation/fhir-validator.js';

export interface DocumentEvents {
  /** Called after a document has been committed (metrics). */
  stored?(form: string): void;
}

export interface GatewayContext {
  store: Store;
  forms: FormRegistry;
  validator: FhirValidator;
  searchParams: SearchParameterRegistry;
  policy: AccessPolicy;
  clock: Clock;
  events?: DocumentEvents;
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
