// Search parameters are data (profiles/Bundle-search-parameters.json): each names a FHIRPath expression that the
// indexer evaluates on write. Adding a parameter means adding an entry there, not code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fhirpath, { type Model } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';
import type { Bundle, SearchParameter } from 'fhir/r4.js';
import { searchRange, systemOffsetAt } from '../../base/fhir-dates.js';
import { isoWithOffset } from '../../base/clock.js';
import type { IndexRow } from '../storage/store.js';

export type SpType = 'token' | 'string' | 'date' | 'reference';

export interface IndexedParam {
  code: string;
  type: SpType;
  definition: SearchParameter;
  evaluate: (resource: unknown) => unknown[];
}

export type SearchParameterRegistry = Map<string, Map<string, IndexedParam>>;

export function loadSearchParameters(profilesDir: string): SearchParameterRegistry {
  const bundle = JSON.parse(readFileSync(join(profilesDir, 'Bundle-search-parameters.json'), 'utf8')) as Bundle;
  const reg: SearchParameterRegistry = new Map();
  for (const e of bundle.entry ?? []) {
    const sp = e.resource as SearchParameter;
    // fhirpath's r4 model object lacks the explicit undefineds its own Model type asks for under exactOptionalPropertyTypes.
    const compiled = fhirpath.compile(sp.expression!, r4 as Model);
    for (const base of sp.base) {
      if (!reg.has(base)) reg.set(base, new Map());
      reg.get(base)!.set(sp.code, {
        code: sp.code,
        type: sp.type as SpType,
        definition: sp,
        evaluate: (r) => compiled(r as never) as unknown[],
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
