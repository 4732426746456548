// The `_cursor` of the next/previous links: a position in the search order (updated instant, id) and which side of
// it the page lies on, as an opaque base64url token. Keyset paging: the page after a cursor is read from the index
// at that position, so the last page of a large result costs what the first does, where `_offset` must skip every
// earlier match. A cursor is a position only, not a grant: the caller's scope and clauses still apply to it.
import type { SearchCursor, SearchPosition } from '../storage/store.js';

const SHAPE = /^([ab])([0-9]{1,16})\.([A-Za-z0-9\-.]{1,64})$/;

export function encodeCursor(direction: SearchCursor['direction'], at: SearchPosition): string {
  return Buffer.from(`${direction === 'after' ? 'a' : 'b'}${at.updatedMs}.${at.id}`, 'utf8').toString('base64url');
}

/** The cursor a token stands for, or undefined when it is not one this server issues. */
export function decodeCursor(token: string): SearchCursor | undefined {
  if (!/^[A-Za-z0-9_-]{1,120}$/.test(token)) return undefined;
  const m = SHAPE.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m) return undefined;
  const updatedMs = Number(m[2]);
  if (!Number.isSafeInteger(updatedMs)) return undefined;
  return { direction: m[1] === 'a' ? 'after' : 'before', updatedMs, id: m[3]! };
}
