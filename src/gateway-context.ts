// Everything a request handler needs, passed in (smart-forms style): no handler reaches for globals, so tests
// and the CLI build a context the same way the server does.
import type { AccessPolicy } from './access/policy.js';
import type { Clock } from './fhir/clock.js';
import type { SearchParameterRegistry } from './fhir/search-parameters.js';
import type { FormRegistry } from './forms/registry.js';
import type { Store } from './storage/store.js';
import type { FhirValidator } from './validation/fhir-validator.js';

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
