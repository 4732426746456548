// The document-building worker pool builds exactly what the main thread builds, and refuses exactly what it
// refuses: the same document for every sample of every form, and the same OperationOutcome for a bad payload.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { OperationOutcomeError } from '../src/base/outcome.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { startBuildPool, type BuildPool } from '../src/services/documents/build-pool.js';
import { buildDocument } from '../src/services/documents/submit-document.js';

const NOW = '2026-12-04T10:00:00+09:00';
const SUBMITTER = 'medical-institution:1311234567';
const SAMPLES = join(PROJECT_ROOT, 'test', 'samples');

describe('document build pool (worker threads)', () => {
  let ctx: GatewayContext;
  let pool: BuildPool;
  before(async () => {
    [ctx, pool] = await Promise.all([
      createGatewayContext(new SqliteStore(':memory:')),
      startBuildPool(PROJECT_ROOT, 2),
    ]);
  });
  after(async () => {
    await pool.close();
    await ctx.store.close();
  });

  it('starts the number of workers asked for', () => expect(pool.size).to.equal(2));

  it('builds, for every sample of every form, the document the main thread builds', async () => {
    let n = 0;
    for (const form of readdirSync(SAMPLES)) {
      const def = ctx.forms.get(form);
      if (!def) continue;
      for (const file of readdirSync(join(SAMPLES, form))) {
        const payload = JSON.parse(readFileSync(join(SAMPLES, form, file), 'utf8'));
        const inline = buildDocument(ctx, SUBMITTER, def, payload, NOW);
        const pooled = await pool.build(form, SUBMITTER, payload, NOW);
        expect(pooled, `${form}/${file}`).to.deep.equal(inline);
        n++;
      }
    }
    expect(n).to.be.greaterThan(60);
  });

  it('refuses a bad payload with the same OperationOutcome as the main thread', async () => {
    const def = ctx.forms.get('shujii-ikensho')!;
    const bad = JSON.parse(readFileSync(join(SAMPLES, 'shujii-ikensho', 'full.json'), 'utf8'));
    bad.header.insuredNumber = 'not a number';
    let inline: OperationOutcomeError | undefined;
    try {
      buildDocument(ctx, SUBMITTER, def, bad, NOW);
    } catch (e) {
      inline = e as OperationOutcomeError;
    }
    expect(inline).to.be.instanceOf(OperationOutcomeError);
    const pooled = await pool.build('shujii-ikensho', SUBMITTER, bad, NOW).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pooled).to.be.instanceOf(OperationOutcomeError);
    expect((pooled as OperationOutcomeError).status).to.equal(inline!.status);
    expect((pooled as OperationOutcomeError).issues).to.deep.equal(inline!.issues);
  });

  it('spreads concurrent builds over the workers and answers each one', async () => {
    const payload = JSON.parse(readFileSync(join(SAMPLES, 'shujii-ikensho', 'minimal.json'), 'utf8'));
    const docs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.build(
          'shujii-ikensho',
          SUBMITTER,
          { ...payload, header: { ...payload.header, documentId: `p-${i}` } },
          NOW,
        ),
      ),
    );
    expect(new Set(docs.map((d) => d.identifier.value)).size).to.equal(20);
  });
});
