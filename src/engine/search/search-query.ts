// URL search parameters → a SearchQuery for the store. Unknown parameters and modifiers are refused (400)
// rather than silently ignored: a search that quietly drops a filter returns more than the caller asked for.
import { searchDateProblem, searchRange, systemOffsetAt } from '../../base/fhir-dates.js';
import { badRequest, issue, OperationOutcomeError, type Issue } from '../../base/outcome.js';
import { decodeCursor } from './search-cursor.js';
import { dateRange, type SearchParameterRegistry } from './search-parameters.js';
import type { SearchClause, SearchQuery, TotalMode } from '../storage/store.js';

export type QueryParams = Record<string, string | string[] | undefined>;

const CONTROL = new Set(['_count', '_offset', '_sort', '_format', '_total', '_cursor']);
const TOTAL_MODES: readonly TotalMode[] = ['none', 'estimate', 'accurate'];
export const DEFAULT_COUNT = 20;
export const MAX_COUNT = 100;

type Prefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

/** A date value: optional prefix, then the search page's date format (base/fhir-dates.ts), calendar included. */
function parseDateValue(
  raw: string,
  name: string,
  issues: Issue[],
): { prefix: Prefix; low: string; high: string } | undefined {
  const m = /^(eq|ne|lt|le|gt|ge)?(.*)$/.exec(raw)!;
  const problem = searchDateProblem(m[2]!);
  const range = problem === undefined ? dateRange(m[2]!) : undefined;
  if (!range) {
    issues.push(
      issue('invalid', `${name}=${raw}: ${problem ?? 'not a date'} (after an optional prefix eq|ne|lt|le|gt|ge)`, name),
    );
    return undefined;
  }
  return { prefix: (m[1] as Prefix | undefined) ?? 'eq', ...range };
}

/**
 * A `_lastUpdated` value: the instants it covers, whole seconds, both ends included (meta.lastUpdated is an
 * instant; the store compares it as one).
 */
function parseInstantValue(
  raw: string,
  name: string,
  issues: Issue[],
): { prefix: Prefix; low: number; high: number } | undefined {
  const m = /^(eq|ne|lt|le|gt|ge)?(.*)$/.exec(raw)!;
  const problem = searchDateProblem(m[2]!);
  const r = problem === undefined ? searchRange(m[2]!, systemOffsetAt) : undefined;
  if (!r) {
    issues.push(
      issue('invalid', `${name}=${raw}: ${problem ?? 'not a date'} (after an optional prefix eq|ne|lt|le|gt|ge)`, name),
    );
    return undefined;
  }
  const low = Math.floor(r.low / 1000) * 1000;
  const high = Math.ceil(r.high / 1000) * 1000 - 1;
  return { prefix: (m[1] as Prefix | undefined) ?? 'eq', low, high };
}

const lastOf = (raw: string | string[]): string => (Array.isArray(raw) ? raw[raw.length - 1]! : raw);

function intParam(query: QueryParams, name: string, dflt: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined) return dflt;
  const s = lastOf(raw);
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max)
    throw badRequest(`${name} must be a whole number from ${min} to ${max}`, name);
  return n;
}

export function parseSearch(resourceType: string, query: QueryParams, reg: SearchParameterRegistry): SearchQuery {
  const issues: Issue[] = [];
  const clauses: SearchClause[] = [];
  const params = reg.get(resourceType) ?? new Map();
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined || CONTROL.has(key)) continue;
    const [name, modifier] = key.split(':') as [string, string | undefined];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const values = value.split(',').filter((v) => v !== '');
      if (values.length === 0) {
        issues.push(issue('invalid', `${key} has no value`, key));
        continue;
      }
      if (name === '_id' && !modifier) {
        clauses.push({ kind: 'id', values });
        continue;
      }
      if (name === '_lastUpdated' && !modifier) {
        const vs = values.map((v) => parseInstantValue(v, key, issues)).filter((v) => v !== undefined);
        if (vs.length === values.length) clauses.push({ kind: 'lastUpdated', values: vs });
        continue;
      }
      const p = params.get(name);
      if (!p) {
        const known = ['_id', '_lastUpdated', ...params.keys()].join(', ');
        issues.push(
          issue('not-supported', `${resourceType} has no search parameter '${name}'; supported: ${known}`, key),
        );
        continue;
      }
      if (modifier) {
        issues.push(issue('not-supported', `modifier :${modifier} is not supported on ${name}`, key));
        continue;
      }
      switch (p.type) {
        case 'token':
          clauses.push({
            kind: 'token',
            param: name,
            values: values.map((v) => {
              const bar = v.indexOf('|');
              if (bar < 0) return { code: v };
              const system = v.slice(0, bar);
              const code = v.slice(bar + 1);
              return { system, ...(code !== '' ? { code } : {}) };
            }),
            ...(p.accessTag ? { impliesTag: p.accessTag } : {}),
          });
          break;
        case 'string':
          clauses.push({ kind: 'string', param: name, values });
          break;
        case 'reference':
          clauses.push({ kind: 'reference', param: name, values });
          break;
        case 'date': {
          const vs = values.map((v) => parseDateValue(v, key, issues)).filter((v) => v !== undefined);
          if (vs.length === values.length)
            clauses.push({
              kind: 'date',
              param: name,
              values: vs,
              ...(p.maxSpanSeconds !== undefined ? { maxSpanSeconds: p.maxSpanSeconds } : {}),
              ...(p.singleValued ? { singleValued: true } : {}),
              ...(p.notAfterLastUpdated ? { notAfterLastUpdated: true } : {}),
            });
          break;
        }
      }
    }
  }
  if (issues.length) throw new OperationOutcomeError(400, issues);
  const sortRaw = query._sort;
  const sort = sortRaw === undefined ? '-_lastUpdated' : String(sortRaw);
  if (sort !== '_lastUpdated' && sort !== '-_lastUpdated')
    throw badRequest(`_sort supports _lastUpdated and -_lastUpdated`, '_sort');
  const totalRaw = query._total === undefined ? 'estimate' : lastOf(query._total);
  if (!(TOTAL_MODES as readonly string[]).includes(totalRaw))
    throw badRequest(`_total must be one of ${TOTAL_MODES.join(', ')}`, '_total');
  const out: SearchQuery = {
    resourceType,
    clauses,
    count: intParam(query, '_count', DEFAULT_COUNT, 1, MAX_COUNT),
    offset: intParam(query, '_offset', 0, 0, 1_000_000),
    sort: sort === '_lastUpdated' ? 'lastUpdated' : '-lastUpdated',
    total: totalRaw as TotalMode,
  };
  if (query._cursor !== undefined) {
    const cursor = decodeCursor(lastOf(query._cursor));
    if (!cursor)
      throw badRequest('_cursor is not a cursor this server issued (take it from a next or previous link)', '_cursor');
    if (query._offset !== undefined) throw badRequest('_cursor and _offset cannot be combined', '_offset');
    out.cursor = cursor;
  }
  return out;
}
