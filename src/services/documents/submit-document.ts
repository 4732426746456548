// Storing one care-form document: policy check, translation, validation of what we emit, idempotency on the
// business identifier, and every resource of the document written in one transaction (all or nothing).
import type { Resource } from 'fhir/r4.js';
import { partyKey, type Party } from '../../base/party.js';
import { canonicalJson } from '../../base/canonical-json.js';
import { conflict, throwIfErrors, type Issue } from '../../base/outcome.js';
import { readKeys, type FormDocument } from '../../engine/forms/assemble-document.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import { formToFhir } from '../../engine/forms/translate.js';
import { documentKeyRow } from './document-key.js';
import { documentIndex, storedResourcesOf } from './document-index.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import type { AccessTag, StoreTx } from '../../engine/storage/store.js';
import { yieldNow } from '../../base/cooperative.js';

export interface SubmitResult {
  created: boolean;
  documentReferenceId: string;
  questionnaireResponseId: string;
  doc: FormDocument;
}

/** The parts of the context that building a document needs: no store, so a worker thread can hold them too. */
export type DocumentEngine = Pick<GatewayContext, 'validator'>;

export function validateDocument(ctx: DocumentEngine, doc: FormDocument): void {
  const issues: Issue[] = [
    ...ctx.validator.validate(doc.bundle, {
      profile: 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-document-bundle',
    }),
    ...ctx.validator.validate(doc.documentReference, {
      profile: 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-documentreference',
    }),
    // The QR was base-validated as a Bundle entry just above; here its profile and its Questionnaire's rules.
    ...ctx.validator.validateAnswers(doc.questionnaireResponse, {
      profile: 'http://kaigo-gateway.jp/fhir/StructureDefinition/kaigo-questionnaireresponse',
    }),
  ];
  throwIfErrors(issues);
}

/** Authorise before looking at the content: a party that may not submit learns nothing about validation. */
export function authorizeSubmission(ctx: GatewayContext, party: Party, def: FormDefinition, payload: unknown): void {
  ctx.policy.enforce(party, { action: 'submit', form: def.name, issuerCode: readKeys(def, payload).issuerCode });
}

/** Translation and validation of what we emit: pure CPU work (a worker thread may do it, see preparer.ts). */
export function buildDocument(
  ctx: DocumentEngine,
  submitter: string,
  def: FormDefinition,
  payload: unknown,
  now: string,
): FormDocument {
  const doc = formToFhir(def, payload, { now, submitter });
  validateDocument(ctx, doc);
  return doc;
}

/** Policy, translation and validation, done before any lock is taken. */
export function prepareDocument(
  ctx: GatewayContext,
  party: Party,
  def: FormDefinition,
  payload: unknown,
): FormDocument {
  authorizeSubmission(ctx, party, def, payload);
  return buildDocument(ctx, partyKey(party), def, payload, ctx.clock());
}

/** prepareDocument, with the build on the context's builder (worker threads in the server) when it has one. */
export async function prepareDocumentOffThread(
  ctx: GatewayContext,
  party: Party,
  def: FormDefinition,
  payload: unknown,
): Promise<FormDocument> {
  if (!ctx.builder) return prepareDocument(ctx, party, def, payload);
  authorizeSubmission(ctx, party, def, payload);
  return ctx.builder.build(def.name, partyKey(party), payload, ctx.clock());
}

/**
 * Runs inside the caller's transaction, so one store transaction can hold several documents (a care-plan CSV file).
 * Building a document is ≈ 10 ms of CPU on the thread that serves every connection: the event loop gets a turn
 * before each one, so a file of hundreds of documents never holds /healthz or other callers for longer than that.
 */
export async function submitDocument(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  def: FormDefinition,
  payload: unknown,
): Promise<SubmitResult> {
  await yieldNow();
  return storeDocument(ctx, tx, party, def, prepareDocument(ctx, party, def, payload));
}

/**
 * Idempotency on the business identifier and one write of every resource, inside the caller's transaction. Indexing
 * and writing a document is a few milliseconds of CPU, and the embedded store runs the transactions queued behind a
 * commit one after another (group commit): the event loop gets a turn before each document, so a group of many
 * never holds the thread for all of them at once.
 */
export async function storeDocument(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  def: FormDefinition,
  doc: FormDocument,
): Promise<SubmitResult> {
  await yieldNow();
  const result = {
    documentReferenceId: doc.documentReference.id!,
    questionnaireResponseId: doc.questionnaireResponse.id!,
    doc,
  };

  await tx.lock(`${doc.identifier.system}|${doc.identifier.value}`);
  const existing = await tx.findByIdentifier('DocumentReference', doc.identifier.system!, doc.identifier.value!);
  if (existing.length > 0) {
    // A retry of the same submission is answered with what is stored; a different document under the same
    // identifier is a conflict, never a silent overwrite.
    const stored = await tx.read('QuestionnaireResponse', result.questionnaireResponseId);
    const same =
      stored !== undefined &&
      canonicalJson((stored.resource as { item?: unknown }).item) === canonicalJson(doc.questionnaireResponse.item);
    if (!same)
      throw conflict(
        `a different ${def.mapping.title} with identifier ${doc.identifier.value} is already stored`,
        'identifier',
      );
    return { ...result, created: false };
  }

  await writeDocument(ctx, tx, party, def, doc);
  return { ...result, created: true };
}

/** The write half of storeDocument: every resource of the document with its access tag and search rows. */
export async function writeDocument(
  ctx: GatewayContext,
  tx: StoreTx,
  party: Party,
  def: FormDefinition,
  doc: FormDocument,
): Promise<void> {
  const access: AccessTag = { author: partyKey(party), form: def.name };
  if (doc.keys.insurerNumber !== undefined) access.insurerNumber = doc.keys.insurerNumber;
  if (doc.keys.insuredNumber !== undefined) access.insuredNumber = doc.keys.insuredNumber;
  const all = storedResourcesOf(doc);
  const rows = documentIndex(ctx.searchParams, doc);
  const keyRow = documentKeyRow(def.name, access.author, doc.keys);
  if (keyRow) rows[0]!.push(keyRow); // rows[0]: the DocumentReference's
  for (const [i, resource] of all.entries())
    await tx.put({ resource: resource as Resource & { id: string }, access, index: rows[i]! });
}
