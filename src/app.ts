// Wiring: builds a GatewayContext from data on disk (forms, profiles, search parameters) and a store.
import { join } from 'node:path';
import { createAccessPolicy } from './access/policy.js';
import { systemClock, type Clock } from './fhir/clock.js';
import { loadSearchParameters } from './fhir/search-parameters.js';
import { loadFormRegistry, PROJECT_ROOT } from './forms/registry.js';
import type { GatewayContext } from './gateway-context.js';
import type { Store } from './storage/store.js';
import { createFhirValidator } from './validation/fhir-validator.js';

export async function createGatewayContext(store: Store, opts: { clock?: Clock; root?: string } = {}): Promise<GatewayContext> {
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
