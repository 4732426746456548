// Search parameters are data (profiles/Bundle-search-parameters.json): each names a FHIRPath expression that the
// indexer evaluates on write. Adding a parameter means adding an entry there, not code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fhirpath, { type Model } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import type { Bundle, SearchParameter } from 'fhir/r4.js';
import { searchRange, systemOffsetAt } from '../../base/fhir-dates.js';
import { isoWithOffset } from '../../base/clock.js';
import type { RowField } from '../storage/row-filter.js';
import type { IndexRow } from '../storage/store.js';

export type SpType = 'token' | 'string' | 'date' | 'reference';

/**
 * On a SearchParameter: every index row of it holds the value of this AccessTag field of its record (a
 * DocumentReference's type code is the form it was stored under), so a search on it may narrow the caller's scope.
 */
export const ACCESS_TAG_EXTENSION = 'http://kaigo-gateway.jp/fhir/StructureDefinition/search-access-tag';
const TAG_FIELDS: readonly RowField[] = ['author', 'form', 'insurerNumber', 'insuredNumber'];
/**
 * On a date SearchParameter: its values never lie after the record's meta.lastUpdated (DocumentReference.date is
 * when the gateway indexed the document, just before writing it), so a date range's lower end bounds lastUpdated.
 */
export const NOT_AFTER_LAST_UPDATED_EXTENSION =
  'http://kaigo-gateway.jp/fhir/StructureDefinition/search-not-after-last-updated';

export interface IndexedParam {
  code: string;
  type: SpType;
  definition: SearchParameter;
  evaluate: (resource: unknown) => unknown[];
  /** the AccessTag field its index rows equal (ACCESS_TAG_EXTENSION) */
  accessTag?: RowField;
  /** date parameters: the widest [value, high] one of its rows spans, in seconds, when the element type bounds it */
  maxSpanSeconds?: number;
  /** a record has at most one index row of it: a simple path to a non-repeating element */
  singleValued: boolean;
  /** date parameters: no value lies after its record's meta.lastUpdated (NOT_AFTER_LAST_UPDATED_EXTENSION) */
  notAfterLastUpdated?: boolean;
}

/** Widest period one value indexes to (dateRange): an instant is one second; a date or dateTime, a year at most. */
const SPAN_OF_TYPE: Readonly<Record<string, number>> = { instant: 0, date: 366 * 86_400, dateTime: 366 * 86_400 };

/** Facts about the element an expression such as `DocumentReference.date` names, from the R4 model. */
function elementFacts(expression: string): { type?: string; single: boolean } {
  if (!/^[A-Z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/.test(expression)) return { single: false };
  const model = r4 as unknown as { path2Type: Record<string, string>; path2Repeating: Record<string, boolean> };
  const segs = expression.split('.');
  let single = true;
  for (let i = 2; i <= segs.length; i++) if (model.path2Repeating[segs.slice(0, i).join('.')]) single = false;
  const type = model.path2Type[expression];
  return type === undefined ? { single } : { type, single };
}

function accessTagOf(sp: SearchParameter): RowField | undefined {
  const ext = sp.extension?.find((e) => e.url === ACCESS_TAG_EXTENSION);
  if (!ext) return undefined;
  const field = ext.valueCode as RowField | undefined;
  if (field === undefined || !TAG_FIELDS.includes(field))
    throw new Error(`SearchParameter ${sp.id}: ${ACCESS_TAG_EXTENSION} must be one of ${TAG_FIELDS.join(', ')}`);
  return field;
}

export type SearchParameterRegistry = Map<string, Map<string, IndexedParam>>;

export function loadSearchParameters(profilesDir: string): SearchParameterRegistry {
  const bundle = JSON.parse(readFileSync(join(profilesDir, 'Bundle-search-parameters.json'), 'utf8')) as Bundle;
  const reg: SearchParameterRegistry = new Map();
  for (const e of bundle.entry ?? []) {
    const sp = e.resource as SearchParameter;
    // fhirpath's r4 model object lacks the explicit undefineds its own Model type asks for under exactOptionalPropertyTypes.
    const compiled = fhirpath.compile(sp.expression!, r4 as Model);
    const facts = elementFacts(sp.expression!);
    const accessTag = accessTagOf(sp);
    const span = sp.type === 'date' && facts.type !== undefined ? SPAN_OF_TYPE[facts.type] : undefined;
    const notAfter = sp.extension?.find((e) => e.url === NOT_AFTER_LAST_UPDATED_EXTENSION)?.valueBoolean === true;
    if (notAfter && sp.type !== 'date')
      throw new Error(`SearchParameter ${sp.id}: ${NOT_AFTER_LAST_UPDATED_EXTENSION} is for date parameters`);
    for (const base of sp.base) {
      if (!reg.has(base)) reg.set(base, new Map());
      reg.get(base)!.set(sp.code, {
        code: sp.code,
        type: sp.type as SpType,
        definition: sp,
        evaluate: (r) => compiled(r as never) as unknown[],
        ...(accessTag ? { accessTag } : {}),
        ...(span !== undefined ? { maxSpanSeconds: span } : {}),
        singleValued: facts.single,
        ...(notAfter ? { notAfterLastUpdated: true } : {}),
      });
    }
  }
  return reg;
}

// The search index and the store compare dates as local wall-clock text, YYYY-MM-DDTHH:MM:SS in the zone the
// gateway runs in (the zone meta.lastUpdated is written in), with both ends included. Japan has one offset all
// year, so there this order is the order of instants.
// Past 9999-12-31 (an offset can push a value there) toISOString writes +010000-…, which would sort first.
const localText = (instantMs: number): string => {
  const text = isoWithOffset(new Date(instantMs)).slice(0, 19);
  return text.startsWith('+') ? '9999-12-31T23:59:59' : text;
};

/**
 * A FHIR date, dateTime or instant, or a date search value → the seconds it covers, [low, high] both included, as
 * local text. An offset is honoured (`…T01:15:00Z` is 10:15:00 in Japan); a value without one is local time (the
 * search page: "the server's local time zone should be assumed"). Undefined when the value is not a date.
 */
export function dateRange(v: string): { low: string; high: string } | undefined {
  const r = searchRange(v, systemOffsetAt);
  if (!r) return undefined;
  const lowSecond = Math.floor(r.low / 1000) * 1000;
  const lastSecond = Math.ceil(r.high / 1000) * 1000 - 1000;
  return { low: localText(lowSecond), high: localText(lastSecond) };
}

function rowsFor(p: IndexedParam, v: unknown): IndexRow[] {
  if (v === null || v === undefined) return [];
  if (typeof v !== 'object') {
    const s = String(v);
    if (p.type === 'date') {
      const r = dateRange(s);
      return r ? [{ param: p.code, value: r.low, high: r.high }] : [];
    }
    return [{ param: p.code, value: s }];
  }
  const o = v as Record<string, unknown>;
  switch (p.type) {
    case 'token':
      if ('coding' in o) return (o.coding as unknown[]).flatMap((c) => rowsFor(p, c));
      if ('value' in o && typeof o.value === 'string')
        return [{ param: p.code, ...(o.system ? { system: String(o.system) } : {}), value: o.value }];
      if ('code' in o && typeof o.code === 'string')
        return [{ param: p.code, ...(o.system ? { system: String(o.system) } : {}), value: o.code }];
      return [];
    case 'reference':
      return typeof o.reference === 'string' ? [{ param: p.code, value: o.reference }] : [];
    case 'string':
      return ['text', 'family', 'given', 'name']
        .flatMap((k) => (Array.isArray(o[k]) ? (o[k] as unknown[]) : [o[k]]))
        .filter((x): x is string => typeof x === 'string')
        .map((value) => ({ param: p.code, value }));
    case 'date': {
      const period = o as { start?: string; end?: string };
      const lo = period.start ? dateRange(period.start) : undefined;
      const hi = period.end ? dateRange(period.end) : undefined;
      return lo || hi ? [{ param: p.code, value: lo?.low ?? '0000', high: hi?.high ?? '9999' }] : [];
    }
  }
}

/** Index rows for one resource, from every search parameter of its type. */
export function indexResource(reg: SearchParameterRegistry, resource: { resourceType: string }): IndexRow[] {
  const params = reg.get(resource.resourceType);
  if (!params) return [];
  const rows: IndexRow[] = [];
  for (const p of params.values()) for (const v of p.evaluate(resource)) rows.push(...rowsFor(p, v));
  return rows;
}
