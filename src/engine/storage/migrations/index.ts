// Every schema change, in order. A change to the schema is a new file (0002-….ts) appended here; the stores apply
// whatever a database lacks when they open it.
import { initial } from './0001-initial.js';
import type { Migration } from './migration.js';
import { searchIndexes } from './0002-search-indexes.js';

export const MIGRATIONS: readonly Migration[] = [initial, searchIndexes];
