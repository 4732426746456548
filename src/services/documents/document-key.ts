// The slot a care-form document fills: one form, one author (party key), one insured person (保険者番号 and
// 被保険者番号) and one date (the form's `date` key: 計画作成(変更)日, 対象年月 …). Every *current* DocumentReference
// carries its slot as a search row of its own, so the documents in a slot are one indexed lookup at any store size,
// inside the transaction (tx.findByIndexRow) and so seeing that transaction's writes. No SearchParameter names
// the row: FHIR searches never see it. A document that stops being current (superseded, entered-in-error) is
// stored again without it, one made current again with it: the careplan-csv import keeps that (slots.ts).
import type { FormKeys } from '../../engine/forms/assemble-document.js';
import type { IndexRow } from '../../engine/storage/store.js';

export const DOCUMENT_KEY_PARAM = 'document-key';

/** Undefined for a document without all three keys: it is in no slot. */
export function documentKeyRow(form: string, author: string, keys: FormKeys): IndexRow | undefined {
  const { insurerNumber, insuredNumber, date } = keys;
  if (insurerNumber === undefined || insuredNumber === undefined || date === undefined) return undefined;
  // Numbers, dates and party keys hold no '|', so the joined text is one slot only.
  return { param: DOCUMENT_KEY_PARAM, value: [form, author, insurerNumber, insuredNumber, date].join('|') };
}
