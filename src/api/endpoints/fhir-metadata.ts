// GET /fhir/metadata: built from what the gateway actually has loaded (search parameters, forms), so it cannot
// advertise what the code does not do.
import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { VERSION } from '../../base/project.js';
import type { GatewayResponse } from '../request.js';
import { CREATABLE_TYPES, SUPPORTING_TYPES } from './fhir-create.js';

const READ_ONLY = ['DocumentReference', 'Bundle'];

export function capabilityStatement(ctx: GatewayContext, version: string, now: string): CapabilityStatement {
  const types = [
    ...new Set([...READ_ONLY, 'QuestionnaireResponse', ...SUPPORTING_TYPES, ...ctx.searchParams.keys()]),
  ].sort();
  const resource = types.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    interaction: [
      { code: 'read' as const },
      { code: 'search-type' as const },
      // create only where POST /fhir/{type} takes it; any other type's create is 404
      ...(CREATABLE_TYPES.has(type) ? [{ code: 'create' as const }] : []),
    ],
    ...(SUPPORTING_TYPES.has(type) ? { conditionalCreate: true } : {}),
    searchParam: [
      { name: '_id', type: 'token' as const },
      { name: '_lastUpdated', type: 'date' as const },
      ...[...(ctx.searchParams.get(type)?.values() ?? [])].map((p) => ({
        name: p.code,
        type: p.type,
        definition: p.definition.url,
        documentation: p.definition.description,
      })),
    ],
  })) as CapabilityStatementRestResource[];
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: now,
    publisher: 'kaigo-gateway',
    kind: 'instance',
    software: { name: 'kaigo-gateway', version },
    implementation: { description: '介護情報基盤 interoperability gateway: care forms ⇄ FHIR R4' },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'application/json'],
    instantiates: [...ctx.forms.forms.values()].map((d) => d.questionnaireCanonical),
    rest: [
      {
        mode: 'server',
        documentation: 'Mutual TLS 1.3 only; the caller organisation comes from its client certificate.',
        security: {
          cors: false,
          description: 'TLS 1.3 client certificate required (厚生労働省 安全管理ガイドライン).',
        },
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }],
      },
    ],
  };
}

/** GET /fhir/metadata */
export async function getMetadata(ctx: GatewayContext): Promise<GatewayResponse> {
  return { status: 200, body: capabilityStatement(ctx, VERSION, ctx.clock()) };
}
