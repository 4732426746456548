// GET /fhir/{type} paging and totals, through the router as the server calls it (no HTTP): next/previous links
// carry a keyset `_cursor` and visit every match once; `_offset` still works; `_total` says whether the Bundle
// counts; a result too large to count cheaply leaves Bundle.total out unless `_total=accurate`; a `type` search
// narrows the caller's scope to that form (what DocumentReference.type implies about the access tag).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/base/project.js';
import type { Party } from '../src/base/party.js';
import { createOpenApiCheck } from '../src/adapters/http/openapi-check.js';
import type { GatewayRequest } from '../src/api/request.js';
import { handle } from '../src/api/router.js';
import { mappingProblems } from '../src/engine/forms/registry.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { PROBE_CAP } from '../src/engine/storage/sql-search-run.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { fillScaleStore, type ScaleFacts } from './support/scale-store.js';

describe('search paging and totals', function () {
  this.timeout(120_000);
  let dir: string;
  let store: SqliteStore;
  let ctx: GatewayContext;
  let facts: ScaleFacts;
  let checkRequest: Awaited<ReturnType<typeof createOpenApiCheck>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kaigo-paging-'));
    store = new SqliteStore(join(dir, 'store.sqlite'));
    ctx = await createGatewayContext(store);
    checkRequest = await createOpenApiCheck(join(PROJECT_ROOT, 'openapi.yaml'));
    facts = await fillScaleStore(ctx, store, { documents: 6000 });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (party: Party, pathAndQuery: string) => {
    const url = new URL(pathAndQuery, 'https://gw.test');
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) query[k] = k in query ? [query[k]!, v].flat() : v;
    const req: GatewayRequest = {
      method: 'GET',
      path: url.pathname,
      query,
      headers: {},
      body: undefined,
      party,
      fhirBase: 'https://gw.test/fhir',
    };
    return handle(ctx, req, { checkRequest }) as Promise<{ status: number; body: any }>;
  };
  const link = (bundle: any, relation: string): string | undefined =>
    bundle.link.find((l: any) => l.relation === relation)?.url;
  const ids = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource.id);

  it('next links carry a cursor and visit every match once; previous links walk back the same matches', async () => {
    const q = `/fhir/DocumentReference?insurer-number=${facts.municipality.code}&type=futan-gendogaku-nintei-sho&_count=7`;
    const all = await get(facts.municipality, `${q.replace('_count=7', '_count=100')}&_total=accurate`);
    expect(all.status).to.equal(200);
    const want = ids(all.body);
    expect(all.body.total).to.equal(want.length);
    expect(want.length).to.be.within(15, 99);

    const seen: string[] = [];
    let page = (await get(facts.municipality, q)).body;
    let last = page;
    while (page) {
      seen.push(...ids(page));
      last = page;
      const next = link(page, 'next');
      if (next)
        expect(next)
          .to.match(/[?&]_cursor=[A-Za-z0-9_-]+/)
          .and.not.match(/_offset/);
      page = next ? (await get(facts.municipality, next)).body : undefined;
    }
    expect(seen).to.deep.equal(want);

    const back: string[][] = [];
    page = last;
    while (page) {
      back.unshift(ids(page));
      const prev = link(page, 'previous');
      page = prev ? (await get(facts.municipality, prev)).body : undefined;
    }
    expect(back.flat()).to.deep.equal(want);
  });

  it('keeps _offset, and pages on from it by cursor', async () => {
    const q = `/fhir/DocumentReference?insurer-number=${facts.municipality.code}&type=futan-gendogaku-nintei-sho`;
    const all = ids((await get(facts.municipality, `${q}&_count=100`)).body);
    const byOffset = (await get(facts.municipality, `${q}&_count=5&_offset=5`)).body;
    expect(ids(byOffset)).to.deep.equal(all.slice(5, 10));
    expect(ids((await get(facts.municipality, link(byOffset, 'next')!)).body)).to.deep.equal(all.slice(10, 15));
    expect(ids((await get(facts.municipality, link(byOffset, 'previous')!)).body)).to.deep.equal(all.slice(0, 5));
  });

  it('refuses a cursor it did not issue, a cursor with _offset, and an unknown _total', async () => {
    const bad = await get(facts.municipality, '/fhir/DocumentReference?_cursor=bm90LWEtY3Vyc29y');
    expect(bad.status).to.equal(400);
    expect(bad.body.issue[0].expression).to.deep.equal(['_cursor']);
    const first = (await get(facts.municipality, '/fhir/DocumentReference?_count=2')).body;
    const both = await get(facts.municipality, `${link(first, 'next')!}&_offset=4`);
    expect(both.status).to.equal(400);
    const total = await get(facts.municipality, '/fhir/DocumentReference?_total=maybe');
    expect(total.status).to.equal(400);
    expect(total.body.issue[0].expression).to.deep.equal(['_total']);
  });

  it(`counts exactly up to ${PROBE_CAP} rows by default; beyond that only when asked (_total=accurate)`, async () => {
    // the hospital's own documents: few
    const few = (await get(facts.hospital, '/fhir/DocumentReference?status=current')).body;
    expect(few.total)
      .to.be.a('number')
      .and.equal(ids((await get(facts.hospital, '/fhir/DocumentReference?status=current&_count=100')).body).length);
    // everything current the municipality may read: more than the cap
    const many = (await get(facts.municipality, '/fhir/DocumentReference?status=current')).body;
    expect(many.total).to.equal(undefined);
    expect(ids(many)).to.have.length(20);
    expect(link(many, 'next')).to.be.a('string');
    const counted = (await get(facts.municipality, '/fhir/DocumentReference?status=current&_total=accurate')).body;
    expect(counted.total).to.be.above(PROBE_CAP);
    const none = (await get(facts.hospital, '/fhir/DocumentReference?status=current&_total=none')).body;
    expect(none.total).to.equal(undefined);
    expect(ids(none)).to.deep.equal(ids(few));
  });

  it('a type search finds only that form, and nothing of a form the caller neither wrote nor holds', async () => {
    const own = (await get(facts.municipality, '/fhir/DocumentReference?type=hihokensha-sho&_count=100')).body;
    expect(own.entry.length).to.be.above(0);
    for (const e of own.entry) expect(e.resource.type.coding[0].code).to.equal('hihokensha-sho');
    const held = (await get(facts.municipality, '/fhir/DocumentReference?type=shujii-ikensho&_count=100')).body;
    for (const e of held.entry) {
      expect(e.resource.type.coding[0].code).to.equal('shujii-ikensho');
      expect(e.resource.context.related[0].identifier.value).to.equal(facts.municipality.code);
    }
    // a care plan (第1表) is shared with no municipality
    const none = (await get(facts.municipality, '/fhir/DocumentReference?type=kyotaku-careplan-1')).body;
    expect(none.total).to.equal(0);
    expect(none.entry ?? []).to.deep.equal([]);
  });

  it('refuses a mapping whose document-type code is not its form name (the type search relies on it)', () => {
    const def = ctx.forms.get('shujii-ikensho')!;
    const renamed = { ...def, mapping: { ...def.mapping, documentType: { ...def.mapping.documentType, code: 'x' } } };
    expect(mappingProblems(def)).to.deep.equal([]);
    expect(mappingProblems(renamed)).to.deep.equal(['documentType.code is "x"; it must be the form name']);
  });
});
