// How a resource's JSON is kept in the `content` columns, for both stores.
//
// SQLite: a BLOB, one codec byte and then the raw-deflated UTF-8 JSON. Care-form JSON (Japanese text, UUIDs,
// repeated FHIR keys) shrinks to about 0.3 of its bytes; compressing all a document stores costs about twice a
// JSON.stringify + JSON.parse of its Bundle, inflating it about one (bench/storage-size.ts measures both).
// TEXT rows, as stored before migration 3, are read as they are: SQLite's dynamic typing lets one column hold
// both, and the type of the value says which it is.
//
// PostgreSQL: JSONB, which the server compresses itself (TOAST) and can query; the driver sends JSON text and
// hands back the parsed value.
//
// Decoding gives back exactly the JSON text that was encoded, so a read returns what a read returned before
// compression (for SQLite, the very bytes JSON.stringify produced at write time).
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { SqlDialect } from './sql-exec.js';

/** First byte of a content BLOB: what follows is raw deflate (RFC 1951) of the UTF-8 JSON text. */
export const DEFLATE_RAW = 0x01;

/**
 * zlib level 1, the cheapest: on care-form documents level 6 is only about 5 % smaller, for about 1.5 times the
 * CPU (bench/storage-size.ts), and the store is well within its size budget at level 1.
 */
const DEFLATE_LEVEL = 1;

/** The value a store binds for a resource's JSON text. */
export type StoredContent = string | Buffer;

/** What a driver hands back for a content column: TEXT (string), BLOB (Uint8Array/Buffer), or parsed JSONB. */
export type ContentValue = string | Uint8Array | object;

export function compressJson(json: string): Buffer {
  const body = deflateRawSync(json, { level: DEFLATE_LEVEL });
  const out = Buffer.allocUnsafe(body.length + 1);
  out[0] = DEFLATE_RAW;
  body.copy(out, 1);
  return out;
}

/** The JSON text of a TEXT or BLOB content value. */
export function contentJson(value: string | Uint8Array): string {
  if (typeof value === 'string') return value;
  if (value[0] !== DEFLATE_RAW)
    throw new Error(
      `stored content has codec byte ${value[0]}, which this gateway does not know (written by a newer one?)`,
    );
  return inflateRawSync(value.subarray(1)).toString('utf8');
}

/** A content column's value as the resource it holds. */
export function parseContent<T>(value: ContentValue): T {
  if (typeof value === 'string' || value instanceof Uint8Array) return JSON.parse(contentJson(value)) as T;
  return value as T;
}

/** What to bind for `json` in the given dialect's content column. */
export const storedContent = (dialect: SqlDialect, json: string): StoredContent =>
  dialect === 'sqlite' ? compressJson(json) : json;
