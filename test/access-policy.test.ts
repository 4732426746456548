// The access policy: one set of rules (the forms' `sharing`), one decision function, and one row filter that is
// interpreted twice — in JS for a single record, in SQL for search. The property tests below prove the two
// interpreters agree on random filters, random sharing rules and the real forms, against a real SQLite store.
import { expect } from 'chai';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { OperationOutcomeError } from '../src/base/outcome.js';
import { PARTY_KINDS, partyKey, type Party, type PartyKind } from '../src/base/party.js';
import { createAccessPolicy, type AccessPolicy } from '../src/engine/access/policy.js';
import type { FormDefinition } from '../src/engine/forms/form-definition.js';
import { loadFormRegistry } from '../src/engine/forms/registry.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { allOf, anyOf, eq, matchesRow, type RowFilter, type RowField } from '../src/engine/storage/row-filter.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import type { AccessTag } from '../src/engine/storage/store.js';
import { careplanLayouts, exportCareplanFile, importCareplanFile } from '../src/services/careplan-csv/service.js';
import { formatFileName } from '../src/services/careplan-csv/file-name.js';

const realForms = loadFormRegistry().forms;

const party = (kind: PartyKind, code: string): Party => ({ kind, code, name: `${kind} ${code}` });
const hospital = party('medical-institution', '1311234567');
const municipality = party('municipality', '131011');
const otherMunicipality = party('municipality', '271007');
const careOffice = party('care-manager-office', '1370000018');

/** Only what the policy reads of a form: its name, title and sharing rule. */
function syntheticForm(name: string, sharing: FormDefinition['mapping']['sharing']): FormDefinition {
  return { name, mapping: { title: `${name} title`, sharing } } as unknown as FormDefinition;
}

function refusal(fn: () => void): OperationOutcomeError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(OperationOutcomeError);
    return e as OperationOutcomeError;
  }
  return expect.fail('expected a refusal');
}

describe('access policy', () => {
  describe('decisions from the real forms’ sharing rules', () => {
    const policy = createAccessPolicy(realForms);
    const ikensho: AccessTag = {
      author: partyKey(hospital),
      form: 'shujii-ikensho',
      insurerNumber: '131011',
      insuredNumber: '0001234567',
    };
    const reads = (p: Party, tag: AccessTag): boolean => policy.decide(p, { action: 'read', tag }).allowed;

    it('★ the author reads its own records, in a form or not; another organisation of its kind does not', () => {
      expect(reads(hospital, ikensho)).to.equal(true);
      expect(reads(hospital, { author: partyKey(hospital) })).to.equal(true);
      expect(reads(party('medical-institution', '1319999999'), ikensho)).to.equal(false);
      expect(reads(party('medical-institution', '1319999999'), { author: partyKey(hospital) })).to.equal(false);
    });

    it('○ a municipality holds the forms its rules name, of its own insured only', () => {
      expect(reads(municipality, ikensho)).to.equal(true);
      expect(reads(otherMunicipality, ikensho)).to.equal(false);
      const { insurerNumber: _insurer, ...withoutInsurer } = ikensho;
      expect(reads(municipality, withoutInsurer)).to.equal(false);
      // 居宅サービス計画書(1) 第1表 names no holder: even the insurer's municipality does not see it.
      expect(
        reads(municipality, { author: partyKey(careOffice), form: 'kyotaku-careplan-1', insurerNumber: '131011' }),
      ).to.equal(false);
      // A care office holds no 主治医意見書, whatever the insurer.
      expect(reads(careOffice, ikensho)).to.equal(false);
    });

    it('a refused read names the record and the caller in a 403', () => {
      const e = refusal(() =>
        policy.enforce(otherMunicipality, { action: 'read', tag: ikensho, label: 'DocumentReference/x' }),
      );
      expect(e.status).to.equal(403);
      expect(e.issues[0]!.diagnostics).to.equal('DocumentReference/x is not shared with municipality 271007');
    });

    it('submit: only the form’s author kind, and only in the name of the certificate’s organisation', () => {
      expect(policy.decide(hospital, { action: 'submit', form: 'shujii-ikensho' }).allowed).to.equal(true);
      expect(
        policy.decide(hospital, { action: 'submit', form: 'shujii-ikensho', issuerCode: hospital.code }).allowed,
      ).to.equal(true);
      expect(policy.decide(municipality, { action: 'submit', form: 'shujii-ikensho' })).to.deep.equal({
        allowed: false,
        reason: 'a municipality may not submit a 主治医意見書; only a medical-institution may',
      });
      expect(
        policy.decide(careOffice, {
          action: 'submit',
          form: 'kyotaku-careplan-1',
          issuerCode: '1370000026',
          issuerNamedBy: 'the file name',
        }),
      ).to.deep.equal({
        allowed: false,
        reason: 'the file name names organisation 1370000026 but the client certificate is 1370000018',
      });
      expect(policy.decide(hospital, { action: 'submit', form: 'no-such-form' }).allowed).to.equal(false);
    });

    it('a party kind no rule names may neither search nor create; a holder may search but not create', () => {
      const onlyIkensho = createAccessPolicy(new Map([['shujii-ikensho', realForms.get('shujii-ikensho')!]]));
      const provider = party('care-provider', '1371000009');
      expect(onlyIkensho.decide(provider, { action: 'search' })).to.deep.equal({
        allowed: false,
        reason: 'no document is shared with a care-provider',
      });
      expect(onlyIkensho.decide(provider, { action: 'create-supporting', resourceType: 'Patient' }).allowed).to.equal(
        false,
      );
      expect(onlyIkensho.decide(municipality, { action: 'search' }).allowed).to.equal(true);
      expect(
        onlyIkensho.decide(municipality, { action: 'create-supporting', resourceType: 'Patient' }).allowed,
      ).to.equal(false);
      expect(onlyIkensho.decide(hospital, { action: 'create-supporting', resourceType: 'Patient' }).allowed).to.equal(
        true,
      );
    });

    it('a mapping whose holder rule the policy cannot enforce stops the policy from being built', () => {
      const bad = syntheticForm('bad-form', {
        author: 'care-provider',
        holders: [{ party: 'municipality', match: 'insuredNumber' }],
      });
      expect(() => createAccessPolicy(new Map([['bad-form', bad]]))).to.throw(/sharing match 'insuredNumber'/);
    });
  });

  describe('the JS and SQL interpreters of a row filter agree', function () {
    this.timeout(120_000);

    const KINDS = fc.constantFrom(...PARTY_KINDS);
    // Few values, so that random tags often hit the filter; one with SQL-special characters, bound not spliced.
    const CODES = fc.constantFrom('131011', '271007', '1311234567', "13'10%_");
    const FORMS = ['form-a', 'form-b', 'form-c'];
    const tagArb: fc.Arbitrary<AccessTag> = fc
      .record({
        author: fc.tuple(KINDS, CODES).map(([k, c]) => partyKey({ kind: k, code: c })),
        form: fc.option(fc.constantFrom(...FORMS, 'form-unknown'), { nil: undefined }),
        insurerNumber: fc.option(CODES, { nil: undefined }),
        insuredNumber: fc.option(fc.constantFrom('0001234567', '0009876543'), { nil: undefined }),
      })
      .map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as unknown as AccessTag);
    const tagsArb = fc.array(tagArb, { minLength: 1, maxLength: 12 });
    const partyArb = fc.tuple(KINDS, CODES).map(([k, c]) => party(k, c));

    /** Stores each tag on its own Patient row and returns the row indexes the SQL filter selects. */
    async function selectedBySql(tags: AccessTag[], filter: RowFilter): Promise<number[]> {
      const store = new SqliteStore(':memory:');
      try {
        await store.transaction(async (tx) => {
          for (const [i, access] of tags.entries())
            await tx.put({ resource: { resourceType: 'Patient', id: `r${i}` }, access, index: [] });
        });
        const { total, records } = await store.search(
          { resourceType: 'Patient', clauses: [], count: 1000, offset: 0, sort: 'lastUpdated' },
          filter,
        );
        expect(total).to.equal(records.length);
        return records.map((r) => Number(r.resource.id.slice(1))).sort((a, b) => a - b);
      } finally {
        await store.close();
      }
    }
    const selectedBy = (tags: AccessTag[], keep: (t: AccessTag) => boolean): number[] =>
      tags.flatMap((t, i) => (keep(t) ? [i] : []));

    it('on random filters (deny-all and admit-all too), matchesRow selects exactly the rows the SQL does', async () => {
      const FIELDS: RowField[] = ['author', 'form', 'insurerNumber', 'insuredNumber'];
      const atomArb = fc
        .tuple(
          fc.constantFrom(...FIELDS),
          fc.constantFrom('131011', "13'10%_", 'form-a', 'form-b', '0001234567', 'municipality:131011'),
        )
        .map(([f, v]) => eq(f, v));
      const filterArb = fc
        .array(fc.array(atomArb, { maxLength: 3 }), { maxLength: 4 })
        .map((cs) => anyOf(...cs.map((atoms) => allOf(...atoms))));
      await fc.assert(
        fc.asyncProperty(filterArb, tagsArb, async (filter, tags) => {
          expect(await selectedBySql(tags, filter)).to.deep.equal(selectedBy(tags, (t) => matchesRow(filter, t)));
        }),
        { numRuns: 150 },
      );
    });

    it('on random sharing rules and parties, a read is allowed exactly when the search returns the row', async () => {
      const holderArb = fc.record({
        party: KINDS,
        match: fc.option(fc.constant('insurerNumber' as const), { nil: undefined }),
      });
      const rulesArb = fc.tuple(
        ...FORMS.map(() => fc.record({ author: KINDS, holders: fc.array(holderArb, { maxLength: 3 }) })),
      );
      await fc.assert(
        fc.asyncProperty(rulesArb, partyArb, tagsArb, async (rules, caller, tags) => {
          const forms = new Map(
            FORMS.map((name, i) => {
              const { author, holders } = rules[i]!;
              const clean = holders.map((h) => (h.match === undefined ? { party: h.party } : { ...h, match: h.match }));
              return [name, syntheticForm(name, { author, holders: clean })] as const;
            }),
          );
          const policy = createAccessPolicy(forms);
          expect(await selectedBySql(tags, policy.scope(caller))).to.deep.equal(
            selectedBy(tags, (tag) => policy.decide(caller, { action: 'read', tag }).allowed),
          );
        }),
        { numRuns: 150 },
      );
    });

    it('on the real forms, for every kind of party, the read decision and the search scope agree', async () => {
      const policy: AccessPolicy = createAccessPolicy(realForms);
      const realTagArb = fc
        .tuple(tagArb, fc.constantFrom(...realForms.keys(), undefined))
        .map(([t, form]) => ({ ...t, ...(form === undefined ? {} : { form }) }) as AccessTag);
      await fc.assert(
        fc.asyncProperty(partyArb, fc.array(realTagArb, { minLength: 1, maxLength: 12 }), async (caller, tags) => {
          expect(await selectedBySql(tags, policy.scope(caller))).to.deep.equal(
            selectedBy(tags, (tag) => policy.decide(caller, { action: 'read', tag }).allowed),
          );
        }),
        { numRuns: 150 },
      );
    });
  });

  describe('care-plan CSV files are sent and read through the policy', function () {
    this.timeout(60_000);
    let ctx: GatewayContext;
    before(async () => {
      ctx = await createGatewayContext(new SqliteStore(':memory:'));
    });
    after(async () => ctx.store.close());

    const layouts = careplanLayouts();
    /** A DLT1KYO (deletion of 第1–3表) file: its forms are the three 居宅サービス計画書 tables. */
    const deletion = (sender: string): { name: string; bytes: Buffer } => {
      const cells: Record<number, string> = { 1: '202407', 2: '131011', 3: '0001234567', 4: '20240401' };
      const line = layouts
        .get('DLT1KYO')!
        .columns.map((c) => cells[c.no] ?? '')
        .join(',');
      return {
        name: formatFileName({
          type: 'DLT1KYO',
          senderOffice: sender,
          senderServiceType: '43',
          receiverOffice: '1371000009',
          receiverServiceType: '15',
          timestamp: '20240601100000',
        }),
        bytes: iconv.encode(`${line}\r\n`, 'cp932'),
      };
    };
    const status = (p: Promise<unknown>): Promise<number> =>
      p.then(
        () => 200,
        (e: unknown) => (e instanceof OperationOutcomeError ? e.status : Promise.reject(e)),
      );

    it('a deletion file may be sent only by the kind that authors the forms it deletes, in its own name', async () => {
      const f = deletion(careOffice.code);
      // Same office code, wrong kind: refused because of the forms the file writes, not of its name.
      const asProvider = await importCareplanFile(ctx, party('care-provider', careOffice.code), f.name, f.bytes).then(
        () => expect.fail('a care-provider sent a care-plan deletion'),
        (e: OperationOutcomeError) => e,
      );
      expect(asProvider.status).to.equal(403);
      expect(asProvider.issues[0]!.diagnostics).to.match(/^a care-provider may not submit a .*care-manager-office/);
      const inAnotherName = deletion('1370000026');
      const wrongName = await importCareplanFile(ctx, careOffice, inAnotherName.name, inAnotherName.bytes).then(
        () => expect.fail("an office sent a file in another office's name"),
        (e: OperationOutcomeError) => e,
      );
      expect(wrongName.issues[0]!.diagnostics).to.include('送信元事業所番号 names organisation 1370000026');
      expect((await importCareplanFile(ctx, careOffice, f.name, f.bytes)).status).to.equal(201);
    });

    it('a stored file is read back by its sender only', async () => {
      const f = deletion(careOffice.code);
      expect(Buffer.compare(await exportCareplanFile(ctx, careOffice, f.name), f.bytes)).to.equal(0);
      expect(await status(exportCareplanFile(ctx, party('care-manager-office', '1370000026'), f.name))).to.equal(403);
      expect(await status(exportCareplanFile(ctx, municipality, f.name))).to.equal(403);
    });
  });
});
