// Every schema change, in order. A change to the schema is a new file (0004-….ts) appended here; the stores apply
// whatever a database lacks when they open it.
import { initial } from './0001-initial.js';
import { compactStorage } from './0003-compact-storage.js';
import type { Migration } from './migration.js';

/**
 * Migration 2 (search indexes) is being written on another branch. Until it lands here this no-op holds its place,
 * so the list stays 1, 2, 3; merging that branch replaces it. (A database opened by a build with the stand-in
 * records version 2 under this name and is refused by builds with the real step: only throw-away databases are.)
 */
const awaitingMigration2: Migration = {
  version: 2,
  name: 'awaiting-search-indexes',
  sqlite: '',
  postgresql: '',
};

export const MIGRATIONS: readonly Migration[] = [initial, awaitingMigration2, compactStorage];
