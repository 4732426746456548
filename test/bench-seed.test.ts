// The store generator of the scale benchmarks (bench/seed): its numbers carry the check digits the project checks,
// it is deterministic, a cloned document is exactly what the real translation gives for the same input, and a filled
// store holds exactly the rows the real write path (storeDocument) would write. Small sizes only.
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partyKey } from '../src/base/party.js';
import { CHECK_DIGITS } from '../src/engine/forms/check-digits.js';
import { parseDate } from '../src/engine/forms/era-date.js';
import { formToFhir } from '../src/engine/forms/translate.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { prepareDocument, storeDocument } from '../src/services/documents/submit-document.js';
import { readDate, shiftMonths, writeDate } from '../bench/seed/dates.js';
import { DocumentGenerator, FORM_MIX } from '../bench/seed/documents.js';
import { fillStore } from '../bench/seed/fill-store.js';
import { generatePopulation } from '../bench/seed/persons.js';
import { renderPayload } from '../bench/seed/sample-slots.js';
import { DocumentTemplate, firstDifference } from '../bench/seed/templates.js';
import { parseContent } from '../src/engine/storage/content-codec.js';

const checkDigit = CHECK_DIGITS['mod10-weights-2-1']!;

describe('bench/seed store generator', () => {
  let ctx: GatewayContext;
  let store: SqliteStore;
  before(async () => {
    store = new SqliteStore(':memory:');
    ctx = await createGatewayContext(store);
  });
  after(() => store.close());

  it('gives insurers and organisations valid check digits and persons distinct 10-digit insured numbers', () => {
    const pop = generatePopulation({ persons: 2000, seed: 7 });
    for (const ins of pop.insurers) expect(checkDigit.valid(ins.insurerNumber), ins.insurerNumber).to.be.true;
    for (const org of pop.organizations) {
      expect(org.code).to.match(/^[0-9]{10}$/);
      expect(checkDigit.valid(org.code), `${org.role} ${org.code}`).to.be.true;
    }
    expect(new Set(pop.organizations.map((o) => o.code)).size).to.equal(pop.organizations.length);
    const insured = pop.persons.map((p) => p.insuredNumber);
    for (const n of insured) expect(n).to.match(/^[0-9]{10}$/);
    expect(new Set(insured).size).to.equal(insured.length);
    expect(pop.insurers.find((i) => i.name === '千代田区')?.insurerNumber).to.equal('131011');
  });

  it('is deterministic: the same seed gives the same persons and documents, in any order', () => {
    const a = generatePopulation({ persons: 300, seed: 42 });
    const b = generatePopulation({ persons: 300, seed: 42 });
    expect(JSON.stringify(b)).to.equal(JSON.stringify(a));
    expect(JSON.stringify(generatePopulation({ persons: 300, seed: 43 }))).not.to.equal(JSON.stringify(a));
    const ga = new DocumentGenerator(ctx.forms, a, 42);
    const gb = new DocumentGenerator(ctx.forms, b, 42);
    const forward = [0, 1, 2, 3, 4].map((i) => ga.input(i));
    const backward = [4, 3, 2, 1, 0].map((i) => gb.input(i)).reverse();
    for (let i = 0; i < 5; i++) {
      expect(backward[i]!.values).to.deep.equal(forward[i]!.values);
      expect(backward[i]!.party).to.deep.equal(forward[i]!.party);
    }
  });

  it('moves dates by whole months and writes them back in the sample style', () => {
    expect(shiftMonths('2026-05-01', -7)).to.equal('2025-10-01');
    expect(shiftMonths('2028-04-30', -7)).to.equal('2027-09-30');
    expect(shiftMonths('2026-01-31', 1)).to.equal('2026-02-28');
    expect(shiftMonths('1948-02-29', 68 * 12)).to.equal('2016-02-29');
    expect(shiftMonths('2024-06', -13)).to.equal('2023-05');
    const era = readDate('昭和１５年３月１日')!;
    expect(era.iso).to.equal('1940-03-01');
    expect(writeDate('2019-04-30', era.style)).to.equal('平成３１年４月３０日');
    expect(writeDate('2019-05-01', era.style)).to.equal('令和元年５月１日');
    const approx = readDate('令和3年4月頃')!;
    expect(writeDate('2018-10', approx.style)).to.equal('平成30年10月頃');
    for (const d of ['1926-12-25', '1989-01-07', '1989-01-08', '2019-05', '1930-02-11'])
      expect(parseDate(writeDate(d, era.style)), d).to.deep.include({ iso: d });
  });

  it('clones documents that equal formToFhir output for the same input, for every form', function () {
    this.timeout(120_000);
    const gen = new DocumentGenerator(ctx.forms, generatePopulation({ persons: 500, seed: 11 }), 11);
    const templates = new Map<string, DocumentTemplate>();
    const checked = new Map<string, number>();
    for (
      let i = 0;
      i < 2000 && [...checked.values()].filter((n) => n >= 2).length < Object.keys(FORM_MIX).length;
      i++
    ) {
      const input = gen.input(i);
      if ((checked.get(input.def.name) ?? 0) >= 2) continue;
      const sex = input.plan.sexLeaf ? input.values.sex : '2';
      const key = `${input.plan.file}|${sex}`;
      let t = templates.get(key);
      if (!t) templates.set(key, (t = new DocumentTemplate(ctx, input.plan, sex)));
      const payload = renderPayload(input.plan, input.values);
      const real = formToFhir(input.def, payload, { now: input.values.now, submitter: partyKey(input.party) });
      const clone = t.clone(input.values);
      expect(firstDifference(clone, real), `${input.def.name} document ${i}`).to.be.undefined;
      expect(JSON.stringify(clone)).to.equal(JSON.stringify(real));
      checked.set(input.def.name, (checked.get(input.def.name) ?? 0) + 1);
    }
    expect([...checked.keys()].sort()).to.deep.equal(Object.keys(FORM_MIX).sort());
  });

  it('fills a store with exactly the rows POST /forms would write for the same documents', async function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), 'kaigo-bench-seed-'));
    try {
      const seeded = new SqliteStore(join(dir, 'seeded.sqlite'));
      const real = new SqliteStore(join(dir, 'real.sqlite'));
      const opts = { docs: 40, persons: 200, seed: 5 };
      const r = await fillStore(seeded, { ...opts, batch: 15, ctx: { ...ctx, store: seeded } });
      expect(r.documents).to.equal(40);
      expect(Object.values(r.byForm).reduce((a, b) => a + b, 0)).to.equal(40);
      const realCtx = { ...ctx, store: real };
      for (let i = 0; i < opts.docs; i++) {
        const input = r.generator.input(i);
        const doc = prepareDocument({ ...realCtx, clock: () => input.values.now }, input.party, input.def, {
          ...renderPayload(input.plan, input.values),
        });
        const res = await real.transaction((tx) => storeDocument(realCtx, tx, input.party, input.def, doc));
        expect(res.created).to.be.true;
      }
      // A second fill of the same range is refused rather than adding new versions.
      let refused = false;
      await fillStore(seeded, { ...opts, ctx: { ...ctx, store: seeded } }).catch(() => (refused = true));
      expect(refused).to.be.true;
      await Promise.all([seeded.close(), real.close()]);

      const rows = (file: string): { resources: unknown[]; index: unknown[] } => {
        const db = new Database(join(dir, file), { readonly: true });
        const resources = (
          db
            .prepare(
              'SELECT type, id, version, author, form, insurer_number, insured_number, content FROM resources ORDER BY type, id',
            )
            .all() as Array<{ content: string | Uint8Array }>
        ).map(({ content, ...row }) => {
          const { meta, ...resource } = parseContent<{ meta: { lastUpdated?: string } }>(content);
          delete meta.lastUpdated; // the store's clock
          return { ...row, resource, meta };
        });
        const index = db
          .prepare(
            'SELECT type, id, param, system, value, high FROM search_index ORDER BY type, id, param, value, system',
          )
          .all();
        db.close();
        return { resources, index };
      };
      const a = rows('seeded.sqlite');
      const b = rows('real.sqlite');
      expect(a.resources.length).to.be.greaterThan(40 * 4);
      expect(firstDifference(a.resources, b.resources)).to.be.undefined;
      expect(firstDifference(a.index, b.index)).to.be.undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
