// Every schema change, in order. A change to the schema is a new file (0004-….ts) appended here; the stores apply
// whatever a database lacks when they open it.
import { initial } from './0001-initial.js';
import { searchIndexes } from './0002-search-indexes.js';
import { compactStorage } from './0003-compact-storage.js';
import type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [initial, searchIndexes, compactStorage];
