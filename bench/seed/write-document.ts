// The write half of storeDocument without its duplicate check: a generated store has unique identifiers by
// construction, so the seeder writes through the real write path (services/documents/submit-document.ts
// writeDocument) and skips only the per-document look-up. test/bench-seed.test.ts checks that a filled store holds
// exactly the rows storeDocument writes.
export { writeDocument } from '../../src/services/documents/submit-document.js';
