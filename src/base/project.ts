// Where the project's data lives (mappings/, profiles/, openapi.yaml) and the version it ships as. The data
// folders sit beside src/, so the root is found from this file's own location: no working-directory guessing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** package.json's version: the one place it is written. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
