// The search rows of a built document's resources, in the order storeDocument writes them (DocumentReference,
// Bundle, then the document's resources). Evaluating the search parameters (FHIRPath) is a fifth of the main
// thread's work per stored document, so a builder on worker threads computes the rows there and hands them over
// beside the document; a document built anywhere else has them computed when it is stored.
import type { Resource } from 'fhir/r4.js';
import type { FormDocument } from '../../engine/forms/assemble-document.js';
import { indexResource, type SearchParameterRegistry } from '../../engine/search/search-parameters.js';
import type { IndexRow } from '../../engine/storage/store.js';

const handedOver = new WeakMap<FormDocument, IndexRow[][]>();

export const storedResourcesOf = (doc: FormDocument): Resource[] => [
  doc.documentReference,
  doc.bundle,
  ...doc.resources,
];

export const computeDocumentIndex = (reg: SearchParameterRegistry, doc: FormDocument): IndexRow[][] =>
  storedResourcesOf(doc).map((r) => indexResource(reg, r));

/** Records the rows a worker computed for `doc` (the document as received, unchanged since). */
export function handOverIndex(doc: FormDocument, rows: IndexRow[][]): void {
  handedOver.set(doc, rows);
}

/** Fresh arrays, so the caller may add rows of its own. */
export function documentIndex(reg: SearchParameterRegistry, doc: FormDocument): IndexRow[][] {
  const rows = handedOver.get(doc);
  if (!rows) return computeDocumentIndex(reg, doc);
  handedOver.delete(doc);
  return rows;
}
