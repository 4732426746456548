// A worker thread that builds form documents (translate + validate) for the main thread, which keeps the I/O:
// TLS, HTTP and the store. It loads the same forms and profiles as the main thread, so the document it returns is
// exactly what prepareDocument would have built there (test/build-pool.test.ts compares them). It also computes
// the document's search rows (document-index.ts), so storing it costs the main thread no FHIRPath.
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { OperationOutcomeError } from '../../base/outcome.js';
import { loadFormRegistry } from '../../engine/forms/registry.js';
import { loadSearchParameters } from '../../engine/search/search-parameters.js';
import { createFhirValidator } from '../../engine/validation/fhir-validator.js';
import { buildDocument } from './submit-document.js';
import { computeDocumentIndex } from './document-index.js';
import type { BuildReply, BuildRequest } from './build-messages.js';

const { root } = workerData as { root: string };
const forms = loadFormRegistry(root);
const validator = await createFhirValidator({ profilesDir: join(root, 'profiles') });
const searchParams = loadSearchParameters(join(root, 'profiles'));
const port = parentPort!;

port.on('message', (req: BuildRequest) => {
  let reply: BuildReply;
  try {
    const def = forms.get(req.form);
    if (!def) throw new Error(`no form named ${req.form}`);
    const doc = buildDocument({ validator }, req.submitter, def, req.payload, req.now);
    reply = { id: req.id, doc, index: computeDocumentIndex(searchParams, doc) };
  } catch (err) {
    reply =
      err instanceof OperationOutcomeError
        ? { id: req.id, refused: { status: err.status, issues: [...err.issues] } }
        : { id: req.id, failed: err instanceof Error ? (err.stack ?? err.message) : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
