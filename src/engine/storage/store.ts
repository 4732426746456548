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

export type SearchClause =
  | { kind: 'token'; param: string; values: Array<{ system?: string; code?: string }> }
  | { kind: 'string'; param: string; values: string[] }
  | { kind: 'reference'; param: string; values: string[] }
  | {
      kind: 'date';
      param: string;
      values: Array<{ prefix: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; low: string; high: string }>;
    }
  | { kind: 'id'; values: string[] }
  | {
      kind: 'lastUpdated';
      values: Array<{ prefix: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; low: string; high: string }>;
    };

export interface SearchQuery {
  resourceType: string;
  clauses: SearchClause[];
  count: number;
  offset: number;
  sort: 'lastUpdated' | '-lastUpdated';
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
  search(q: SearchQuery, scope: ReadScope): Promise<{ total: number; records: StoredRecord[] }>;
  /** Readiness probe. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
