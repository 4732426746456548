// Storage behind one interface. SQLite (embedded, default) implements it; a PostgreSQL implementation for
// multi-node deployments slots in beside it and must pass the same contract tests (test/storage-contract.ts).
import type { Resource } from 'fhir/r4.js';
import type { RowFilter } from './row-filter.js';

/** Who a stored resource belongs to, so access can be decided (and searched) without parsing it. */
export interface AccessTag {
  /** party key (kind:code) of the organisation that submitted it (★) */
  author: string;
  /** form name when the resource is part of a care-form document */
  form?: string;
  /** 保険者番号 of the insured person, when known */
  insurerNumber?: string;
  /** 被保険者番号, when known */
  insuredNumber?: string;
}

export interface IndexRow {
  param: string;
  system?: string;
  /** token code, reference, string, or for dates the lower bound (YYYY-MM-DDTHH:MM:SS, local time as written) */
  value: string;
  /** upper bound, for dates */
  high?: string;
}

export interface StoredRecord {
  resource: Resource & { id: string; meta: { versionId: string; lastUpdated: string } };
  access: AccessTag;
}

/**
 * What a search may see: a neutral row filter over the AccessTag columns, built by the access policy for the caller
 * (storage interprets it, it does not decide it). Deny by default: a filter with no alternative matches nothing.
 */
export type ReadScope = RowFilter;

export type DatePrefix = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

export type SearchClause =
  | {
      kind: 'token';
      param: string;
      values: Array<{ system?: string; code?: string }>;
      /**
       * Set when every index row of this parameter holds the same value as this AccessTag field of its record (a
       * DocumentReference's `type` code is its form): a match then has that field equal to one of the codes, which
       * lets the search drop scope alternatives that cannot match and use the tag indexes for the others.
       */
      impliesTag?: keyof AccessTag;
    }
  | { kind: 'string'; param: string; values: string[] }
  | { kind: 'reference'; param: string; values: string[] }
  | {
      kind: 'date';
      param: string;
      values: Array<{ prefix: DatePrefix; low: string; high: string }>;
      /**
       * The widest [value, high] an index row of this parameter spans, in seconds (an instant: 0), when its element
       * type bounds it: lets `ge`/`gt` bound `value` from below too, so the range is served by the value index.
       */
      maxSpanSeconds?: number;
      /** Set when a record has at most one index row of this parameter, so date clauses on it can be combined. */
      singleValued?: boolean;
      /**
       * Set when no value of this parameter lies after its record's meta.lastUpdated: the lower end of the range
       * then bounds updated_ms too, so a search for a recent period walks only recently updated records.
       */
      notAfterLastUpdated?: boolean;
    }
  | { kind: 'id'; values: string[] }
  | {
      kind: 'lastUpdated';
      /** instants in epoch milliseconds, both ends included */
      values: Array<{ prefix: DatePrefix; low: number; high: number }>;
    };

/** A record's place in the search order: (updated, id), newest first being its descending order. */
export interface SearchPosition {
  updatedMs: number;
  id: string;
}

/** Keyset paging: the page continues after (or ends just before) this position. */
export interface SearchCursor extends SearchPosition {
  direction: 'after' | 'before';
}

/** R4 `_total`: `estimate` (the default) counts only while counting is cheap; `accurate` always; `none` never. */
export type TotalMode = 'none' | 'estimate' | 'accurate';

export interface SearchQuery {
  resourceType: string;
  clauses: SearchClause[];
  count: number;
  /** matches to skip (cost grows with it); ignored when `cursor` is set */
  offset: number;
  /** newest first is (updated, id) descending; oldest first is its exact reverse */
  sort: 'lastUpdated' | '-lastUpdated';
  cursor?: SearchCursor;
  total?: TotalMode;
}

export interface SearchResult {
  /** the number of matches, when counted (see TotalMode); never a guess */
  total?: number;
  records: StoredRecord[];
  /** matches lie after this page (in the query's order) */
  hasNext: boolean;
  /** matches may lie before it (after an offset or cursor: at least where the caller came from) */
  hasPrevious: boolean;
  /** where the page starts and ends in the search order (the cursors of its next and previous pages) */
  edges?: { first: SearchPosition; last: SearchPosition };
}

export interface WriteRecord {
  resource: Resource & { id: string };
  access: AccessTag;
  index: IndexRow[];
}

export interface StoreTx {
  read(type: string, id: string): Promise<StoredRecord | undefined>;
  /** Ids of resources of `type` carrying identifier system|value (no access scope: used for duplicate checks). */
  findByIdentifier(type: string, system: string, value: string): Promise<string[]>;
  /**
   * Ids of resources of `type` whose search rows include `row` exactly (param, value, and system or none), as this
   * transaction sees them (its own writes included); one indexed lookup at any store size. For rows a service
   * keeps for lookups of its own, e.g. services/documents/document-key.ts (no access scope, like findByIdentifier).
   */
  findByIndexRow(type: string, row: Pick<IndexRow, 'param' | 'system' | 'value'>): Promise<string[]>;
  /** Create or make a new version; sets meta.versionId/lastUpdated. */
  put(rec: WriteRecord): Promise<StoredRecord>;
  /**
   * Holds `key` until the transaction ends, so concurrent transactions (other nodes, with PostgreSQL) that
   * check-then-create the same business identifier run one after the other.
   */
  lock(key: string): Promise<void>;
}

export interface Store extends Omit<StoreTx, 'put' | 'lock' | 'findByIndexRow'> {
  readonly kind: string;
  /** Runs fn atomically: all of its writes commit together or none do. */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  search(q: SearchQuery, scope: ReadScope): Promise<SearchResult>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
