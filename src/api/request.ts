// The transport-free request and response the core handles (Medplum pattern): express, the CLI and tests all
// speak this, so FHIR handling never depends on a web framework.
import type { Party } from '../base/party.js';
import type { QueryParams } from '../engine/search/search-query.js';
import type { RequestLimits } from './limits.js';

export interface GatewayRequest {
  method: string;
  /** path below the server root, e.g. /fhir/DocumentReference/123 */
  path: string;
  query: QueryParams;
  headers: Record<string, string | undefined>;
  body?: unknown;
  /** the caller, from its client certificate; absent only when the certificate names no party */
  party?: Party;
  /**
   * absolute base of the FHIR endpoint, from the configured public URL (never the Host header), e.g.
   * https://kaigo-gw.example.jp/fhir: Location headers and Bundle links start with it
   */
  fhirBase: string;
  /** the limits this request is held to (handle() fills them in from its options; default DEFAULT_LIMITS) */
  limits?: RequestLimits;
}

export interface GatewayResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}
