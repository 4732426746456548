// Care-form payload → the FHIR document the gateway stores: a QuestionnaireResponse answering the form's
// Questionnaire, the resources its mapping describes (Patient, Practitioner, Organization…), a document Bundle
// (Composition first) and a DocumentReference that indexes it. Pure: the clock is passed in.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../base/canonical-json.js';
import type { Bundle, Composition, DocumentReference, Identifier, QuestionnaireResponse, Resource } from 'fhir/r4.js';
import { deterministicUuid, DOCUMENT_ID_SYSTEM } from '../../base/ids.js';
import { throwIfErrors, type Issue } from '../../base/outcome.js';
import { rewriteReferences } from '../../base/references.js';
import { parseDate } from './era-date.js';
import type { FormDefinition, FormKeyName } from './form-definition.js';
import { payloadToItems } from './items.js';
import { getPath, type Json, type JsonObject } from '../../base/json-paths.js';
import { isMultiResource, resolveResources, resolveTemplate } from './template.js';

export const INSURED_NUMBER_SYSTEM = 'http://kaigo-gateway.jp/fhir/IdSystem/ltci-insured-number';
export const INSURER_NUMBER_SYSTEM = 'http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber';

export type FormKeys = Partial<Record<FormKeyName, string>>;

export interface FormDocument {
  form: string;
  keys: FormKeys;
  identifier: Identifier;
  bundle: Bundle;
  documentReference: DocumentReference;
  /** Every resource of the document as stored on its own (references as Type/id), QR first. */
  resources: Resource[];
  questionnaireResponse: QuestionnaireResponse;
}

/** The resourceType a resource template produces (a $each alias names it inside its $template). */
function resourceTypeOf(t: JsonObject): unknown {
  return isMultiResource(t) ? (t.$template as JsonObject | undefined)?.resourceType : t.resourceType;
}

export function readKeys(def: FormDefinition, payload: unknown): FormKeys {
  const keys: FormKeys = {};
  for (const [k, path] of Object.entries(def.mapping.keys) as Array<[FormKeyName, string]>) {
    const v = getPath(payload, path);
    if (v !== undefined && v !== null) keys[k] = String(v);
  }
  return keys;
}

/**
 * The document's business identifier: the sender's id when given, otherwise a hash of the payload itself. It is
 * qualified by who issued it — the organisation code written in the form, or else the submitting party — so two
 * senders' ids never collide (nor reveal each other's documents through a 409).
 */
export function businessIdentifier(
  def: FormDefinition,
  keys: FormKeys,
  payload: unknown,
  submitter?: string,
): Identifier {
  const issuer = keys.issuerCode ?? submitter ?? '';
  const value = keys.documentId
    ? `${def.name}:${issuer}:${keys.documentId}`
    : `${def.name}:sha256:${keys.issuerCode === undefined && submitter ? `${submitter}:` : ''}${createHash('sha256').update(canonicalJson(payload)).digest('hex')}`;
  return { system: DOCUMENT_ID_SYSTEM, value };
}

/** The id of one resource of a document (alias e.g. `questionnaireResponse`, `patient`, `goals/0`). */
export const documentResourceId = (businessIdentifier: string, alias: string): string =>
  deterministicUuid(businessIdentifier, alias);

export function assembleDocument(
  def: FormDefinition,
  payload: unknown,
  opts: { now: string; submitter?: string },
): FormDocument {
  const issues: Issue[] = [];
  const keys = readKeys(def, payload);
  const identifier = businessIdentifier(def, keys, payload, opts.submitter);
  const idOf = (alias: string): string => documentResourceId(identifier.value!, alias);

  const allAliases = Object.keys(def.mapping.resources);
  // Single-resource aliases can be referenced ($ref); a $each alias (e.g. one Observation per measured value)
  // yields several resources with ids from alias/position.
  const aliases = allAliases.filter((a) => !isMultiResource(def.mapping.resources[a]!));
  const typeOf = new Map(allAliases.map((a) => [a, String(resourceTypeOf(def.mapping.resources[a]!))]));
  const urnRefs = new Map(aliases.map((a) => [a, `urn:uuid:${idOf(a)}`]));
  // urn:uuid:X (inside the document) → Type/X (the same resource stored on its own)
  const toRelative = new Map<string, string>(aliases.map((a) => [urnRefs.get(a)!, `${typeOf.get(a)}/${idOf(a)}`]));

  // Multi-resource aliases first, so single resources can point at all of them ($refEach).
  const multiRefs = new Map<string, string[]>();
  const ctx = { def, payload, refs: urnRefs, multiRefs, issues };
  const ordered = [...allAliases.filter((a) => isMultiResource(def.mapping.resources[a]!)), ...aliases];
  const built = new Map<string, Resource[]>();
  for (const alias of ordered) {
    const multi = isMultiResource(def.mapping.resources[alias]!);
    const list = resolveResources(def.mapping.resources[alias]!, ctx, `mapping.resources.${alias}`).map((r, i) => {
      const { resourceType, ...rest } = r as unknown as Resource;
      const id = multi ? idOf(`${alias}/${i}`) : idOf(alias);
      if (multi) toRelative.set(`urn:uuid:${id}`, `${resourceType}/${id}`);
      return { resourceType, id, ...rest } as Resource;
    });
    if (multi)
      multiRefs.set(
        alias,
        list.map((r) => `urn:uuid:${r.id}`),
      );
    built.set(alias, list);
  }
  // Keep the mapping's order of aliases in the document.
  const resources: Resource[] = allAliases.flatMap((a) => built.get(a) ?? []);

  const qrId = idOf('questionnaireResponse');
  const extras = (
    def.mapping.questionnaireResponse
      ? resolveTemplate(def.mapping.questionnaireResponse, ctx, 'mapping.questionnaireResponse')
      : {}
  ) as Record<string, Json>;
  const qr: QuestionnaireResponse = {
    resourceType: 'QuestionnaireResponse',
    id: qrId,
    identifier,
    questionnaire: def.questionnaireCanonical,
    status: 'completed',
    ...(extras as Partial<QuestionnaireResponse>),
    item: payloadToItems({ def, issues }, def.questionnaire.item, payload, ''),
  };
  if (qr.authored !== undefined) {
    const d = parseDate(qr.authored);
    if (typeof d !== 'string') qr.authored = d.iso;
  }
  throwIfErrors(issues);

  const { subject, authors, custodian } = def.mapping.document;
  const date = keys.date !== undefined ? parseDate(keys.date) : undefined;
  const compositionId = idOf('composition');
  const composition: Composition = {
    resourceType: 'Composition',
    id: compositionId,
    identifier,
    status: 'final',
    type: { coding: [def.mapping.documentType], text: def.mapping.title },
    subject: { reference: urnRefs.get(subject)! },
    date: date && typeof date !== 'string' ? date.iso : opts.now,
    author: authors.map((a) => ({ reference: urnRefs.get(a)! })),
    title: def.mapping.title,
    ...(custodian ? { custodian: { reference: urnRefs.get(custodian)! } } : {}),
    section: [
      {
        title: def.mapping.title,
        code: { coding: [def.mapping.documentType] },
        entry: [{ reference: `urn:uuid:${qrId}` }],
      },
    ],
  };
  const bundleId = idOf('bundle');
  const bundle: Bundle = {
    resourceType: 'Bundle',
    id: bundleId,
    identifier,
    type: 'document',
    timestamp: opts.now,
    entry: [composition, qr, ...resources].map((r) => ({ fullUrl: `urn:uuid:${r.id}`, resource: r })),
  };

  toRelative.set(`urn:uuid:${qrId}`, `QuestionnaireResponse/${qrId}`);
  const standalone = [qr, ...resources].map((r) => rewriteReferences(r, toRelative));
  const documentReference = indexDocument(def, keys, identifier, bundle, {
    id: idOf('documentReference'),
    subject: toRelative.get(urnRefs.get(subject)!)!,
    authors: authors.map((a) => toRelative.get(urnRefs.get(a)!)!),
    custodian: custodian ? toRelative.get(urnRefs.get(custodian)!) : undefined,
    now: opts.now,
  });
  return {
    form: def.name,
    keys,
    identifier,
    bundle,
    documentReference,
    resources: standalone,
    questionnaireResponse: standalone[0] as QuestionnaireResponse,
  };
}

/** Canonical bytes of a stored document: RFC 8785 JSON of the Bundle without `meta` (which the store adds). */
export function documentBytes(bundle: Bundle): Buffer {
  const { meta: _meta, ...content } = bundle;
  return Buffer.from(canonicalJson(content), 'utf8');
}

function indexDocument(
  def: FormDefinition,
  keys: FormKeys,
  identifier: Identifier,
  bundle: Bundle,
  o: { id: string; subject: string; authors: string[]; custodian: string | undefined; now: string },
): DocumentReference {
  const bytes = documentBytes(bundle);
  return {
    resourceType: 'DocumentReference',
    id: o.id,
    identifier: [identifier],
    status: 'current',
    type: { coding: [def.mapping.documentType], text: def.mapping.title },
    subject: {
      reference: o.subject,
      ...(keys.insuredNumber ? { identifier: { system: INSURED_NUMBER_SYSTEM, value: keys.insuredNumber } } : {}),
    },
    date: o.now,
    author: o.authors.map((reference) => ({ reference })),
    ...(o.custodian ? { custodian: { reference: o.custodian } } : {}),
    description: def.mapping.title,
    content: [
      {
        attachment: {
          contentType: 'application/fhir+json',
          url: `Bundle/${bundle.id}`,
          size: bytes.length,
          // FHIR R4 Attachment.hash is SHA-1, base64; computed over documentBytes() so anyone can check it.
          hash: createHash('sha1').update(bytes).digest('base64'),
          title: def.mapping.title,
        },
        format: {
          system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode',
          code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
        },
      },
    ],
    context: {
      related: keys.insurerNumber
        ? [{ identifier: { system: INSURER_NUMBER_SYSTEM, value: keys.insurerNumber }, display: '保険者' }]
        : undefined,
    },
  };
}
