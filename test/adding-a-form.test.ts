// Adding a form is data only: the recipe of docs/MAPPING-FORMAT.md ("Adding a form"), followed step by step on a
// copy of the project's data in a temporary folder, and the real gateway serving the new form over mutual TLS.
// The throw-away form (連絡メモ, written by a 居宅介護支援事業所 and held by the insuring 市区町村) lives in
// test/fixtures/new-form/, laid out as its files would sit in the project. If this test needs a code change to
// pass, adding a form is no longer data only.
import { expect } from 'chai';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { canonicalJson } from '../src/base/canonical-json.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { buildSchemas } from '../src/engine/forms/build-schemas.js';
import { loadFormRegistry } from '../src/engine/forms/registry.js';
import { startTestGateway, type Client, type Reply, type TestGateway } from './support/gateway.js';

const FORM = 'renraku-memo';
const TITLE = '連絡メモ（試験用）';
const DOCUMENT_TYPE_SYSTEM = 'http://kaigo-gateway.jp/fhir/CodeSystem/document-type';
const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'new-form');
const JSON_BODY = { 'content-type': 'application/json' };
const readJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
const sampleOf = (f: string): unknown => readJson(join(FIXTURE, 'test', 'samples', FORM, f));

/** Steps 1–5 of the recipe on `root`, a copy of the project's data; returns the schema files the builder wrote. */
function addFormAsData(root: string): string[] {
  // Steps 1–3: the Questionnaire and its answer CodeSystem in profiles/, the mapping in mappings/.
  // Step 7 (samples): test/samples/<form>/. All of it copied as is from the fixture.
  cpSync(FIXTURE, root, { recursive: true });
  // Step 4: the document-type code, without which every DocumentReference of the form breaks a required binding.
  const codeSystemFile = join(root, 'profiles', 'CodeSystem-document-type.json');
  const documentTypes = readJson(codeSystemFile);
  documentTypes.concept.push({ code: FORM, display: TITLE });
  documentTypes.count = documentTypes.concept.length;
  writeFileSync(codeSystemFile, `${JSON.stringify(documentTypes, null, 2)}\n`);
  // Step 5: the payload schema, by the builder `npm run profiles:build` runs, here on the copied root.
  const written: string[] = [];
  for (const [file, text] of buildSchemas(root)) {
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    written.push(relative(root, file));
  }
  return written;
}

describe('adding a form as data only: a throw-away form end to end over mutual TLS', function () {
  this.timeout(60_000);
  let root: string;
  const samples = readdirSync(join(FIXTURE, 'test', 'samples', FORM)).sort();
  let schemasWritten: string[];
  let gw: TestGateway;
  let careOffice: Client;
  let municipality: Client;
  let hospital: Client;
  const posted = new Map<string, Reply>();
  const locationOf = (f: string): string => String(posted.get(f)?.headers.location);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'kaigo-new-form-'));
    for (const dir of ['mappings', 'profiles']) cpSync(join(PROJECT_ROOT, dir), join(root, dir), { recursive: true });
    copyFileSync(join(PROJECT_ROOT, 'openapi.yaml'), join(root, 'openapi.yaml'));
    schemasWritten = addFormAsData(root);
    gw = await startTestGateway({ root });
    careOffice = gw.client('care-office'); // 居宅介護支援事業所 1370000018, as the samples name it
    municipality = gw.client('municipality'); // 市区町村 131011, the samples' 保険者番号
    hospital = gw.client('hospital'); // 医療機関: not named by the form's sharing block
    // Submitted here rather than in a test, so that every test below also runs alone (--grep).
    for (const f of samples) posted.set(f, await careOffice.post(`/forms/${FORM}`, sampleOf(f), JSON_BODY));
  });
  after(async () => {
    await gw?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('the project itself does not know the form; the copy does, and the builder wrote exactly its schema', () => {
    expect(loadFormRegistry().get(FORM)).to.equal(undefined);
    expect(loadFormRegistry(root).get(FORM)?.mapping.title).to.equal(TITLE);
    expect(schemasWritten).to.deep.equal([join('profiles', 'schemas', `${FORM}.schema.json`)]);
    expect(samples.length).to.be.greaterThan(2);
  });

  it('the 居宅介護支援事業所 POSTs each sample to /forms/<form>: 201 and the Location of the stored document', () => {
    expect([...posted.keys()]).to.deep.equal(samples);
    for (const [f, r] of posted) {
      expect(r.status, `${f}: ${r.text}`).to.equal(201);
      expect(r.body.resourceType).to.equal('DocumentReference');
      expect(r.body.type.coding).to.deep.equal([{ system: DOCUMENT_TYPE_SYSTEM, code: FORM, display: TITLE }]);
      expect(locationOf(f)).to.equal(`/forms/${FORM}/${r.body.id}`);
    }
  });

  it('the insuring 市区町村 GETs each back as exactly the payload that was sent', async () => {
    for (const f of samples) {
      const r = await municipality.get(locationOf(f));
      expect(r.status, `${f}: ${r.text}`).to.equal(200);
      expect(r.body, f).to.deep.equal(sampleOf(f));
      expect(canonicalJson(r.body), f).to.equal(canonicalJson(sampleOf(f)));
    }
  });

  it('a resubmission of the same document is answered 200 with the same Location, and stores nothing new', async () => {
    const r = await careOffice.post(`/forms/${FORM}`, sampleOf(samples[0]!), JSON_BODY);
    expect(r.status, r.text).to.equal(200);
    expect(r.headers.location).to.equal(locationOf(samples[0]!));
    const search = await municipality.get(`/fhir/DocumentReference?type=${DOCUMENT_TYPE_SYSTEM}|${FORM}&_count=1`);
    expect(search.body.total).to.equal(samples.length);
  });

  it('a DocumentReference search by the new document type finds exactly those documents', async () => {
    const r = await municipality.get(`/fhir/DocumentReference?type=${DOCUMENT_TYPE_SYSTEM}|${FORM}`);
    expect(r.status, r.text).to.equal(200);
    expect(r.body.total).to.equal(samples.length);
    const found = (r.body.entry as Array<{ resource: { id: string; type: { coding: Array<{ code: string }> } } }>)
      .map((e) => {
        expect(e.resource.type.coding[0]!.code).to.equal(FORM);
        return `/forms/${FORM}/${e.resource.id}`;
      })
      .sort();
    expect(found).to.deep.equal(samples.map(locationOf).sort());
  });

  it('the sharing block is the whole policy: a 医療機関 may neither submit nor see the form', async () => {
    expect((await hospital.post(`/forms/${FORM}`, sampleOf(samples[0]!), JSON_BODY)).status).to.equal(403);
    expect((await hospital.get(locationOf(samples[0]!))).status).to.equal(403);
    const search = await hospital.get(`/fhir/DocumentReference?type=${DOCUMENT_TYPE_SYSTEM}|${FORM}`);
    expect(search.status).to.equal(200);
    expect(search.body.total).to.equal(0);
  });
});
