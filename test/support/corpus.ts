// Where the shared corpus (real JP Core / JP-CLINS data no one here wrote) lives: beside the repository, as in
// CI's clean clone; KAIGO_SHARED_DIR overrides.
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/base/project.js';

export const SHARED_DIR = process.env.KAIGO_SHARED_DIR ?? join(PROJECT_ROOT, '..', 'shared');
export const JP_CORE_DIR = join(SHARED_DIR, 'corpus', 'jp-core', 'jp-core.r4-1.1.2-url');
export const JP_CLINS_EXAMPLES_DIR = join(SHARED_DIR, 'corpus', 'jp-clins', 'clinical-core-ExampleJson');
