// The messages between the main thread and a document-building worker (build-pool.ts ⇄ build-worker.ts).
import type { Issue } from '../../base/outcome.js';
import type { FormDocument } from '../../engine/forms/assemble-document.js';
import type { IndexRow } from '../../engine/storage/store.js';

export interface BuildRequest {
  id: number;
  form: string;
  submitter: string;
  payload: unknown;
  now: string;
}

export type BuildReply =
  /** the document and its search rows (document-index.ts) */
  | { id: number; doc: FormDocument; index: IndexRow[][] }
  /** the submission is refused: an OperationOutcomeError to rebuild on the main thread */
  | { id: number; refused: { status: number; issues: Issue[] } }
  /** a bug, not a refusal: the main thread answers 500 and logs it */
  | { id: number; failed: string };
