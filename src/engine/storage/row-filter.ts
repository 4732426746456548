// A row filter: which stored records a query may see, as data. The access policy (engine/access) builds one per
// caller from the forms' sharing rules; storage only interprets it, so it knows columns, never parties or rules.
// Two interpreters read the same value and must agree (test/access-policy.test.ts proves it on random input):
// `matchesRow` below, in JS, for decisions about one record already in hand, and `rowFilterSql` in sql-search.ts,
// for search, where the filter has to be part of the SQL so paging and totals never count what the caller may
// not see.
//
// Shape: a disjunction of conjunctions of atoms, `any[ all[ eq(field, value) … ] … ]`. `any[]` (no alternative)
// denies everything; an `all[]` with no atoms admits every row.
//
// Extending it (relationships and consent, ◎): add an atom kind to `RowAtom`, e.g.
//   { kind: 'related', party: 'care-provider:1370000018' }              — an organisation related to the person
//   { kind: 'consented', party: 'care-provider:1370000018', scope: '…' } — only with the person's active Consent
// `rowFilterSql` renders each as an EXISTS subquery over its table, correlated on the row's person
// (`EXISTS (SELECT 1 FROM relationships x WHERE x.party = ? AND x.insured_number = r.insured_number AND …)`).
// `matchesRow` cannot answer those from the tag alone: it gains a second argument with the facts about the tag's
// person (the party's relationships and active consents), which the caller loads from the store first; the
// switches below are exhaustive, so the compiler points at every place a new kind must be handled.

/** What a filter can test: the fields of a stored record's AccessTag (kept equal to it by sql-search.ts). */
export interface RowTag {
  author: string;
  form?: string;
  insurerNumber?: string;
  insuredNumber?: string;
}
export type RowField = keyof RowTag;

/** `field` equals `value`; a record without that field never matches (SQL: NULL = ? is not true). */
export interface EqAtom {
  kind: 'eq';
  field: RowField;
  value: string;
}
export type RowAtom = EqAtom;

export interface RowConjunction {
  all: readonly RowAtom[];
}
export interface RowFilter {
  any: readonly RowConjunction[];
}

export const eq = (field: RowField, value: string): EqAtom => ({ kind: 'eq', field, value });
export const allOf = (...atoms: RowAtom[]): RowConjunction => ({ all: atoms });
export const anyOf = (...alternatives: RowConjunction[]): RowFilter => ({ any: alternatives });
/** Deny by default: the filter that admits no row. */
export const NO_ROWS: RowFilter = anyOf();

function atomHolds(atom: RowAtom, tag: RowTag): boolean {
  switch (atom.kind) {
    case 'eq':
      return tag[atom.field] === atom.value;
  }
}

/** The JS interpreter: does the record with this tag pass the filter? */
export function matchesRow(filter: RowFilter, tag: RowTag): boolean {
  return filter.any.some((c) => c.all.every((a) => atomHolds(a, tag)));
}

/**
 * The filter admitting exactly the rows `filter` admits whose `field` is one of `values` (the JS and SQL
 * interpreters give the same answer for it: it is built from the same atoms). A search whose clause implies the
 * field's value uses it to drop alternatives that cannot match and to give the others an equality an index serves.
 */
export function restrictTo(filter: RowFilter, field: RowField, values: readonly string[]): RowFilter {
  const wanted = [...new Set(values)];
  const out: RowConjunction[] = [];
  for (const c of filter.any) {
    const fixed = new Set(c.all.filter((a) => a.kind === 'eq' && a.field === field).map((a) => a.value));
    if (fixed.size > 1) continue; // asks the field to equal two values: matches nothing
    const [only] = fixed;
    if (only !== undefined) {
      if (wanted.includes(only)) out.push(c);
      continue;
    }
    for (const v of wanted) out.push(allOf(...c.all, eq(field, v)));
  }
  return anyOf(...out);
}
