// ケアプランデータ連携標準仕様 v4.1 CSV (居宅): Shift-JIS files ⇄ stored care-plan documents.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { request } from 'undici';
import type { DocumentReference, List } from 'fhir/r4.js';
import {
  careplanLayouts,
  exportCareplanFile,
  exportCurrentPlans,
  importCareplanFile,
  indexCareplanSlots,
} from '../src/services/careplan-csv/service.js';
import { indexResource } from '../src/engine/search/search-parameters.js';
import { formatFileName, parseFileName } from '../src/services/careplan-csv/file-name.js';
import type { Layout } from '../src/services/careplan-csv/layout.js';
import { OperationOutcomeError } from '../src/base/outcome.js';
import { createGatewayContext, type GatewayContext } from '../src/engine/gateway-context.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { startBuildPool, type BuildPool } from '../src/services/documents/build-pool.js';
import { allOf, anyOf, eq } from '../src/engine/storage/row-filter.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const OFFICE = '1370000018'; // the dev cert "care-office" (care-manager-office)
const party = { kind: 'care-manager-office' as const, code: OFFICE, name: 'テスト居宅' };
const layouts = careplanLayouts();

/** One record from the layout data: cells by column number; free-text columns quoted, " doubled. */
function record(type: string, cells: Record<number, string>): string {
  const layout = layouts.get(type) as Layout;
  return layout.columns
    .map((c) => {
      const v = c.no === 1 ? '202407' : (cells[c.no] ?? '');
      return c.format === 'free-text' ? `"${v.replace(/"/g, '""')}"` : v;
    })
    .join(',');
}
const file = (records: string[]): Buffer => iconv.encode(records.map((r) => `${r}\r\n`).join(''), 'cp932');
const nameOf = (type: string, ts: string, month?: string): string =>
  formatFileName({
    type,
    ...(month !== undefined ? { month } : {}),
    senderOffice: OFFICE,
    senderServiceType: '43',
    receiverOffice: '1371000009',
    receiverServiceType: '15',
    timestamp: ts,
  });

const KEY = { 2: '131011', 3: '0001234567' };
const up1 = (planDate: string, extra: Record<number, string> = {}): string =>
  record('UP1KYO', {
    ...KEY,
    4: planDate,
    5: '100-0001',
    6: '東京都千代田区千代田１－１',
    7: 'メゾン「千代田」１０１号',
    8: '佐藤　花子',
    9: 'ちよだ居宅介護支援事業所',
    13: OFFICE,
    14: planDate,
    15: '20230401',
    16: '21',
    17: '2',
    18: '20240315',
    19: '20240401',
    20: '20250331',
    21: '22',
    22: '本人：「自宅で、妻と暮らし続けたい」。\r\n家族："入浴"の介助が負担',
    23: '特になし',
    24: '転倒を防ぎ、在宅生活を続ける。\r\n緊急時は長女へ連絡',
    25: '3',
    26: '同居の妻が要介護１',
    ...extra,
  });
const up2 = (planDate: string): string[] => [
  record('UP2KYO', {
    ...KEY,
    4: planDate,
    5: planDate,
    6: '1',
    7: '一人で入浴できないが、週２回は湯船に入りたい',
    8: '1',
    9: '自宅で安全に入浴できる',
    10: '介助を受けて週２回入浴する',
    11: '2024/04～2025/03',
    12: '2024/04～2024/09',
    13: '1',
    14: '入浴介助、着脱衣の介助',
    15: 'Y',
    16: '通所介護',
    17: '1371000009',
    18: 'デイサービス「ひまわり」',
    19: '週２回（火・金）',
    20: '6か月',
  }),
  record('UP2KYO', {
    ...KEY,
    4: planDate,
    5: planDate,
    6: '1',
    8: '1',
    13: '2',
    14: '見守り、"声かけ"',
    15: 'N',
    16: '家族',
    18: '妻',
    19: '毎日',
  }),
  record('UP2KYO', {
    ...KEY,
    4: planDate,
    5: planDate,
    6: '2',
    7: '足腰が弱り、転びやすい',
    8: '1',
    9: '転倒せずに屋内を歩ける',
  }),
];
const up3 = (planDate: string): string[] => [
  record('UP3KYO', {
    ...KEY,
    4: planDate,
    5: planDate,
    6: '通所介護',
    7: '2',
    8: '0930',
    9: '1600',
    10: '起床・朝食',
    11: '0700',
    12: '0800',
    13: '月１回　受診（通院介助）',
  }),
  record('UP3KYO', { ...KEY, 4: planDate, 5: planDate, 10: '就寝', 11: '2100', 12: '2400' }),
];
const hosoku = (planDate: string, month: string): string =>
  record('UPHOSOKU', {
    ...KEY,
    4: planDate,
    5: 'ヤマダ　タロウ',
    6: '山田　太郎',
    7: '1',
    8: '19400503',
    9: '100-0001',
    10: '東京都千代田区千代田１－１',
    12: '03-1234-5678',
    16: '2',
    18: '22',
    19: '19705',
    20: '11',
    21: '10000',
    22: '8200',
    23: '0',
    24: '15',
    25: '9705',
    26: '9900',
    27: '195',
    56: '195',
    63: month,
  });
const upplan = (month: string): string[] => [
  record('UPPLAN', {
    ...KEY,
    4: '20240325',
    5: month,
    6: OFFICE,
    7: '佐藤　花子',
    8: '655',
    10: `${month}02`,
    12: '0930',
    13: '1600',
    14: '1',
    15: '155111',
    20: '1371000009',
    21: 'デイサービス「ひまわり」',
    23: '0',
  }),
  record('UPPLAN', {
    ...KEY,
    4: '20240325',
    5: month,
    6: OFFICE,
    7: '佐藤　花子',
    8: '300',
    10: `${month}01`,
    11: '1111111111111111111111111111110',
    12: '9999',
    13: '9999',
    14: '1',
    15: '171007',
    16: '00001-000010',
    18: '手すり（居室用）, 据置型',
    19: '1',
    20: '1370000026',
    21: '福祉用具レンタル,まるいち',
    22: '01',
    23: '0',
  }),
];
const upsikyu = (month: string): string[] => [
  record('UPSIKYU', {
    ...KEY,
    4: '20240325',
    5: month,
    6: 'デイサービス「ひまわり」',
    7: '1371000009',
    9: '155111',
    13: '655',
    16: '8',
    17: '5240',
    18: '5240',
    22: '5240',
    23: '10.90',
    24: '57116',
    25: '90',
    26: '51404',
    28: '5712',
    33: '0',
  }),
  record('UPSIKYU', {
    ...KEY,
    4: '20240325',
    5: month,
    7: '9999999999',
    9: '999999',
    13: '0',
    16: '1',
    33: '0',
    34: '9999999999',
    35: OFFICE,
  }),
];

async function newContext(): Promise<GatewayContext> {
  return createGatewayContext(new SqliteStore(':memory:'));
}

async function importOk(ctx: GatewayContext, name: string, bytes: Buffer) {
  const r = await importCareplanFile(ctx, party, name, bytes);
  expect(Buffer.compare(await exportCareplanFile(ctx, party, name), bytes), `${name} exported byte for byte`).to.equal(
    0,
  );
  return r;
}

async function statuses(ctx: GatewayContext, form: string): Promise<string[]> {
  const r = await ctx.store.search(
    {
      resourceType: 'DocumentReference',
      clauses: [
        {
          kind: 'token',
          param: 'type',
          values: [{ system: 'http://kaigo-gateway.jp/fhir/CodeSystem/document-type', code: form }],
        },
      ],
      count: 100,
      offset: 0,
      sort: 'lastUpdated',
    },
    anyOf(allOf(eq('author', `care-manager-office:${OFFICE}`))),
  );
  return r.records.map((x) => (x.resource as DocumentReference).status);
}

function outcomeOf(fn: () => Promise<unknown>): Promise<OperationOutcomeError> {
  return fn().then(
    () => expect.fail('expected a failure'),
    (e: unknown) => {
      expect(e).to.be.instanceOf(OperationOutcomeError);
      return e as OperationOutcomeError;
    },
  );
}

describe('care-plan CSV (ケアプランデータ連携標準仕様 v4.1)', () => {
  let ctx: GatewayContext;
  beforeEach(async () => {
    ctx = await newContext();
  });

  describe('file names', () => {
    it('parses and formats names with and without 対象年月', () => {
      for (const n of [
        'UP1KYO_1370000018_43_1371000009_15_20240401100000.CSV',
        'UPPLAN_202404_1370000018_43_1371000009_15_20240401100000.CSV',
        'UPHOSOKU_000000_1370000018_43_1371000009_15_20240401100000.CSV',
      ]) {
        expect(formatFileName(parseFileName(n, layouts))).to.equal(n);
      }
      expect(parseFileName('UPSIKYU_202404_1370000018_43_1371000009_15_20240401100000.CSV', layouts)).to.include({
        type: 'UPSIKYU',
        month: '202404',
        senderOffice: OFFICE,
        receiverServiceType: '15',
        timestamp: '20240401100000',
      });
    });
    it('refuses a missing or superfluous month, an unknown type and an impossible time stamp', () => {
      for (const n of [
        'UPPLAN_1370000018_43_1371000009_15_20240401100000.CSV',
        'UP1KYO_202404_1370000018_43_1371000009_15_20240401100000.CSV',
        'UPKIHON_1370000018_43_1371000009_15_20240401100000.CSV',
        'UP1KYO_1370000018_43_1371000009_15_20240231100000.CSV',
        'UP1KYO_1370000018_43_1371000009_15_20240401100000.csv',
      ]) {
        expect(() => parseFileName(n, layouts), n).to.throw(OperationOutcomeError);
      }
    });
  });

  describe('import → export is byte-identical', () => {
    it('send unit ①: 第1表, 第2表 (課題 → 援助目標 → 援助内容), 第3表 and 利用者補足情報 (UPHOSOKU_000000)', async () => {
      const ts = '20240401100000';
      await importOk(
        ctx,
        nameOf('UP1KYO', ts),
        file([up1('20240401'), up1('20240401', { 3: '0009876543', 22: '', 23: '', 24: '', 25: '', 26: '' })]),
      );
      const r2 = await importOk(ctx, nameOf('UP2KYO', ts), file(up2('20240401')));
      expect(r2.summary.documents).to.have.length(1);
      await importOk(ctx, nameOf('UP3KYO', ts), file(up3('20240401')));
      const h = await importOk(ctx, nameOf('UPHOSOKU', ts, '000000'), file([hosoku('20240401', '000000')]));
      expect(h.summary.superseded, 'the 第1表 without supplement is replaced by the one with it').to.have.length(1);
      // the UP1KYO file still regenerates identically (from the superseded version), and the 第1表 now holds the supplement
      expect(
        Buffer.compare(
          await exportCareplanFile(ctx, party, nameOf('UP1KYO', ts)),
          file([up1('20240401'), up1('20240401', { 3: '0009876543', 22: '', 23: '', 24: '', 25: '', 26: '' })]),
        ),
      ).to.equal(0);
      const doc = await ctx.store.read('DocumentReference', h.summary.documents[0]!.documentReference);
      const qr = await ctx.store.read(
        'QuestionnaireResponse',
        (await import('../src/base/ids.js')).deterministicUuid(
          (doc!.resource as DocumentReference).identifier![0]!.value!,
          'questionnaireResponse',
        ),
      );
      expect(JSON.stringify(qr!.resource)).to.include('山田　太郎').and.include('転倒を防ぎ');
    });

    it('the 2表 payload nests 課題 → 援助目標 → 援助内容', async () => {
      const r = await importCareplanFile(ctx, party, nameOf('UP2KYO', '20240401100000'), file(up2('20240401')));
      const id = r.summary.documents[0]!.documentReference;
      const { getForm } = await import('../src/api/endpoints/forms.js');
      const payload = (await getForm(ctx, party, 'kyotaku-careplan-2', id)).body as {
        issues: Array<{ no: number; issue?: string; goals: Array<{ services?: unknown[] }> }>;
      };
      expect(payload.issues.map((i) => i.no)).to.deep.equal([1, 2]);
      expect(payload.issues[0]!.goals[0]!.services).to.have.length(2);
      expect(payload.issues[1]!.goals[0]!.services).to.equal(undefined);
    });

    it('send unit ②: 第6表, 第7表 and UPHOSOKU_YYYYMM', async () => {
      const ts = '20240325090000';
      await importOk(ctx, nameOf('UPPLAN', ts, '202404'), file(upplan('202404')));
      await importOk(ctx, nameOf('UPSIKYU', ts, '202404'), file(upsikyu('202404')));
      await importOk(ctx, nameOf('UPHOSOKU', ts, '202404'), file([hosoku('00000000', '202404')]));
    });

    it('an empty file, and the same file twice (200, nothing changes); other bytes under the same name are a 409', async () => {
      const n = nameOf('UP3KYO', '20240401100000');
      const first = await importOk(ctx, n, file(up3('20240401')));
      expect(first.status).to.equal(201);
      const again = await importCareplanFile(ctx, party, n, file(up3('20240401')));
      expect(again).to.deep.include({ status: 200 });
      expect(again.summary.replay).to.equal(true);
      expect((await outcomeOf(() => importCareplanFile(ctx, party, n, file(up3('20240402'))))).status).to.equal(409);
      await importOk(ctx, nameOf('UP1KYO', '20240401100001'), Buffer.alloc(0));
    });
  });

  describe('errors name <file name>:<line>:<column>, and nothing is stored', () => {
    const n = nameOf('UP1KYO', '20240401100000');
    const cases: Array<[string, Buffer, string, string]> = [
      [
        'wrong column count',
        file([up1('20240401'), `${up1('20240402')},`]),
        `${n}:4:29`,
        'structure',
      ] /* physical line: record 1 spans lines 1–3 (line breaks inside free text) */,
      [
        'bad Shift-JIS byte',
        Buffer.concat([
          file([up1('20240401')]),
          iconv.encode('202407,131011,0001234567,20240402,,"', 'cp932'),
          Buffer.from([0x82, 0x20]),
          iconv.encode(
            `"${up1('20240402')
              .slice(up1('20240402').indexOf(',"', 40) + 3 + 0)
              .replace(/^[^,]*/, '')}\r\n`,
            'cp932',
          ),
        ]),
        '',
        'invalid',
      ],
      ['impossible date', file([up1('20240401'), up1('20240230')]), `${n}:4:4`, 'invalid'],
      ['code outside its list', file([up1('20240401', { 16: '99' })]), `${n}:1:16`, 'code-invalid'],
      ['CSVバージョン', file([up1('20240401').replace(/^202407/, '202208')]), `${n}:1:1`, 'code-invalid'],
    ];
    for (const [what, bytes, where, code] of cases) {
      it(what, async () => {
        const e = await outcomeOf(() => importCareplanFile(ctx, party, n, bytes));
        expect(e.status).to.equal(422);
        const i = e.issues.find((x) => x.code === code);
        expect(i, JSON.stringify(e.issues)).to.not.equal(undefined);
        if (where) expect(i!.expression).to.equal(where);
        else expect(i!.expression).to.match(new RegExp(`^${n.replace(/\./g, '\\.')}:4:6$`));
        expect(await statuses(ctx, 'kyotaku-careplan-1')).to.deep.equal([]);
        expect(
          await ctx.store.read('List', (await import('../src/base/ids.js')).deterministicUuid('careplan-csv-file', n)),
        ).to.equal(undefined);
      });
    }
    it('a Shift-JIS code with no MS932 character is an error, not U+FFFD', async () => {
      const bad = Buffer.concat([
        iconv.encode(up1('20240401').split(',"佐藤')[0]! + ',"', 'cp932'),
        Buffer.from([0x85, 0x40]),
        iconv.encode(`佐藤${up1('20240401').split(',"佐藤')[1]}\r\n`, 'cp932'),
      ]);
      const e = await outcomeOf(() => importCareplanFile(ctx, party, n, bad));
      expect(e.issues[0]).to.include({ code: 'invalid', expression: `${n}:1:8` });
    });
    it('a check-digit error found while storing still names line and column, and rolls the whole file back', async () => {
      const e = await outcomeOf(() =>
        importCareplanFile(
          ctx,
          party,
          n,
          file([up1('20240401', { 3: '0009876543' }), up1('20240401', { 2: '131012' })]),
        ),
      );
      expect(e.status).to.equal(422);
      expect(
        e.issues.some((i) => i.expression === `${n}:4:2`),
        JSON.stringify(e.issues),
      ).to.equal(true);
      expect(await statuses(ctx, 'kyotaku-careplan-1')).to.deep.equal([]);
    });
    it("another office may not send in this office's name", async () => {
      expect(
        (await outcomeOf(() => importCareplanFile(ctx, { ...party, code: '1370000026' }, n, file([up1('20240401')]))))
          .status,
      ).to.equal(403);
    });
  });

  describe('replacement and deletion cascades', () => {
    it('a later 第1表 with the same key supersedes the earlier one', async () => {
      await importOk(ctx, nameOf('UP1KYO', '20240401100000'), file([up1('20240401')]));
      const r = await importOk(ctx, nameOf('UP1KYO', '20240402100000'), file([up1('20240401', { 24: '方針を変更' })]));
      expect(r.summary.superseded).to.have.length(1);
      expect((await statuses(ctx, 'kyotaku-careplan-1')).sort()).to.deep.equal(['current', 'superseded']);
    });

    it('DLT1KYO deletes 第1表, 第2表 and 第3表 of that 計画作成(変更)日 only; DLTPLAN deletes 第6表 and 第7表 of that month', async () => {
      for (const d of ['20240401', '20240501']) {
        const ts = `${d}100000`;
        await importOk(ctx, nameOf('UP1KYO', ts), file([up1(d)]));
        await importOk(ctx, nameOf('UP2KYO', ts), file(up2(d)));
        await importOk(ctx, nameOf('UP3KYO', ts), file(up3(d)));
      }
      for (const m of ['202404', '202405']) {
        await importOk(ctx, nameOf('UPPLAN', `${m}25100000`, m), file(upplan(m)));
        await importOk(ctx, nameOf('UPSIKYU', `${m}25100000`, m), file(upsikyu(m)));
      }
      const del1 = await importOk(
        ctx,
        nameOf('DLT1KYO', '20240601100000'),
        file([record('DLT1KYO', { ...KEY, 4: '20240401' })]),
      );
      expect(del1.summary.deleted).to.have.length(3);
      for (const f of ['kyotaku-careplan-1', 'kyotaku-careplan-2', 'kyotaku-careplan-3'])
        expect((await statuses(ctx, f)).sort(), f).to.deep.equal(['current', 'entered-in-error']);
      const del6 = await importOk(
        ctx,
        nameOf('DLTPLAN', '20240601100001', '202405'),
        file([record('DLTPLAN', { ...KEY, 4: '202405' })]),
      );
      expect(del6.summary.deleted).to.have.length(2);
      for (const f of ['kyotaku-careplan-6', 'kyotaku-careplan-7'])
        expect((await statuses(ctx, f)).sort(), f).to.deep.equal(['current', 'entered-in-error']);
      // the deleted files still regenerate; the current plans export as standard files that import again identically
      const files = await exportCurrentPlans(ctx, {
        receiverOffice: '1371000009',
        receiverServiceType: '15',
        timestamp: '20240701120000',
      });
      expect(files.map((f) => f.name)).to.deep.equal([
        'UP1KYO_1370000018_43_1371000009_15_20240701120000.CSV',
        'UP2KYO_1370000018_43_1371000009_15_20240701120000.CSV',
        'UP3KYO_1370000018_43_1371000009_15_20240701120000.CSV',
        'UPPLAN_202404_1370000018_43_1371000009_15_20240701120001.CSV',
        'UPSIKYU_202404_1370000018_43_1371000009_15_20240701120001.CSV',
      ]);
      expect(Buffer.compare(files[0]!.bytes, file([up1('20240501')]))).to.equal(0);
      const fresh = await newContext();
      for (const f of files) await importOk(fresh, f.name, f.bytes);
    });

    it('a 第1表 sent again after being replaced is current again, and the next replacement finds it', async () => {
      const first = file([up1('20240401')]);
      const a = await importOk(ctx, nameOf('UP1KYO', '20240401100000'), first);
      const b = await importOk(ctx, nameOf('UP1KYO', '20240402100000'), file([up1('20240401', { 24: '方針を変更' })]));
      const again = await importOk(ctx, nameOf('UP1KYO', '20240403100000'), first);
      const [docA, docB] = [a, b].map((r) => r.summary.documents[0]!.documentReference);
      expect(again.summary.documents[0]).to.include({ documentReference: docA, created: false });
      expect(again.summary.superseded).to.deep.equal([docB]);
      const c = await importOk(ctx, nameOf('UP1KYO', '20240404100000'), file([up1('20240401', { 24: '再変更' })]));
      expect(c.summary.superseded).to.deep.equal([docA]);
      expect((await statuses(ctx, 'kyotaku-careplan-1')).sort()).to.deep.equal(['current', 'superseded', 'superseded']);
    });

    it('documents stored without the slot row (an older gateway) are replaced again once index-slots has run', async () => {
      const a = await importOk(ctx, nameOf('UP1KYO', '20240401100000'), file([up1('20240401')]));
      const id = a.summary.documents[0]!.documentReference;
      // as the previous code stored it: the search rows of its content only
      await ctx.store.transaction(async (tx) => {
        const rec = (await tx.read('DocumentReference', id))!;
        await tx.put({
          resource: rec.resource,
          access: rec.access,
          index: indexResource(ctx.searchParams, rec.resource),
        });
      });
      expect(await indexCareplanSlots(ctx)).to.deep.equal({ checked: 1, indexed: 1 });
      expect(await indexCareplanSlots(ctx)).to.deep.equal({ checked: 1, indexed: 0 });
      const b = await importOk(ctx, nameOf('UP1KYO', '20240402100000'), file([up1('20240401', { 24: '方針を変更' })]));
      expect(b.summary.superseded).to.deep.equal([id]);
    });

    describe('an import sees the writes of its own transaction (a file database: reads beside it see only commits)', () => {
      let dir: string;
      let fileCtx: GatewayContext;
      let queued: number;
      beforeEach(async () => {
        dir = mkdtempSync(join(tmpdir(), 'kaigo-cp-tx-'));
        const store = new SqliteStore(join(dir, 'db.sqlite'));
        // Counts the transactions asked for, so a test knows when its imports wait behind a held one.
        queued = 0;
        const counting = Object.create(store) as SqliteStore;
        counting.transaction = (fn) => {
          queued++;
          return store.transaction(fn);
        };
        fileCtx = { ...(await createGatewayContext(store)), store: counting };
      });
      afterEach(async () => {
        await fileCtx.store.close();
        rmSync(dir, { recursive: true, force: true });
      });

      /** Runs the imports while one transaction is held, so they queue and share the next group commit. */
      async function inOneCommit(files: Array<[string, Buffer]>) {
        let release: (() => void) | undefined;
        const held = fileCtx.store.transaction(() => new Promise<void>((r) => (release = r)));
        const imports = files.map(([n, b]) =>
          importCareplanFile(fileCtx, party, n, b).then(
            (r) => r,
            (e: unknown) => e as OperationOutcomeError,
          ),
        );
        // The held transaction starts once its group does (the committer first lets ready work queue up).
        while (queued < files.length + 1 || release === undefined) await new Promise((r) => setTimeout(r, 5));
        release();
        await held;
        return Promise.all(imports);
      }

      it('a deletion record given twice in one file deletes each document once', async () => {
        const ts = '20240401100000';
        await importOk(fileCtx, nameOf('UP1KYO', ts), file([up1('20240401')]));
        await importOk(fileCtx, nameOf('UP2KYO', ts), file(up2('20240401')));
        const del = record('DLT1KYO', { ...KEY, 4: '20240401' });
        const r = await importOk(fileCtx, nameOf('DLT1KYO', '20240601100000'), file([del, del]));
        expect(r.summary.deleted).to.have.length(2);
        expect(new Set(r.summary.deleted).size).to.equal(2);
        expect(await statuses(fileCtx, 'kyotaku-careplan-1')).to.deep.equal(['entered-in-error']);
      });

      it('the files of one send unit committed together: 利用者補足情報 finds the 第1表 sent just before it', async () => {
        const ts = '20240401100000';
        const [up, hs] = await inOneCommit([
          [nameOf('UP1KYO', ts), file([up1('20240401')])],
          [nameOf('UPHOSOKU', ts, '000000'), file([hosoku('20240401', '000000')])],
        ]);
        expect(up, String(up)).to.not.be.instanceOf(Error);
        expect(hs, JSON.stringify((hs as OperationOutcomeError).issues)).to.not.be.instanceOf(Error);
        expect((await statuses(fileCtx, 'kyotaku-careplan-1')).sort()).to.deep.equal(['current', 'superseded']);
      });

      it('two files with the same key committed together: the later one supersedes the earlier', async () => {
        const [a, b] = await inOneCommit([
          [nameOf('UP1KYO', '20240401100000'), file([up1('20240401')])],
          [nameOf('UP1KYO', '20240402100000'), file([up1('20240401', { 24: '方針を変更' })])],
        ]);
        expect(a).to.not.be.instanceOf(Error);
        expect(b).to.not.be.instanceOf(Error);
        expect((await statuses(fileCtx, 'kyotaku-careplan-1')).sort()).to.deep.equal(['current', 'superseded']);
      });
    });

    it('a 利用者補足情報 without its 第1表 is refused at its key column', async () => {
      const n = nameOf('UPHOSOKU', '20240401100000', '000000');
      const e = await outcomeOf(() => importCareplanFile(ctx, party, n, file([hosoku('20240401', '000000')])));
      expect(e.issues[0]!.expression).to.equal(`${n}:1:4`);
    });
  });

  describe('documents built on worker threads (the server’s ctx.builder)', () => {
    let pool: BuildPool;
    let pooled: GatewayContext;
    before(async function () {
      this.timeout(60000);
      pool = await startBuildPool(PROJECT_ROOT, 2);
    });
    after(async () => pool?.close());
    beforeEach(() => {
      pooled = { ...ctx, builder: pool };
    });

    it('stores the same documents in file order, and the file exports byte for byte', async () => {
      const people = Array.from({ length: 70 }, (_, k) => String(1000000 + k).padStart(10, '0'));
      const bytes = file(people.flatMap((p) => upplan('202404').map((r) => r.replace(',0001234567,', `,${p},`))));
      const n = nameOf('UPPLAN', '20240325090000', '202404');
      const inline = await importOk(await newContext(), n, bytes);
      const built = await importOk(pooled, n, bytes);
      expect(built.summary).to.deep.equal(inline.summary);
      expect(built.summary.documents.map((d) => d.line)).to.deep.equal(people.map((_, k) => 2 * k + 1));
    });

    it('利用者補足情報 rebuilds each parent 第1表 on the workers, as inline', async () => {
      const ts = '20240401100000';
      const other = (r: string) => r.replace(',0001234567,', ',0009876543,');
      const files: Array<[string, Buffer]> = [
        [nameOf('UP1KYO', ts), file([up1('20240401'), other(up1('20240401'))])],
        [nameOf('UPHOSOKU', ts, '000000'), file([hosoku('20240401', '000000'), other(hosoku('20240401', '000000'))])],
      ];
      const [inlineCtx, pooledCtx] = [await newContext(), { ...(await newContext()), builder: pool }];
      for (const [n, bytes] of files) {
        const inline = await importOk(inlineCtx, n, bytes);
        expect((await importOk(pooledCtx, n, bytes)).summary).to.deep.equal(inline.summary);
      }
      expect((await statuses(pooledCtx, 'kyotaku-careplan-1')).sort()).to.deep.equal([
        'current',
        'current',
        'superseded',
        'superseded',
      ]);
    });

    it('a refused document is reported at its line and column, the first in file order, and nothing is stored', async () => {
      const n = nameOf('UP1KYO', '20240401100000');
      const bad = (insurer: string) => up1('20240401', { 2: insurer, 3: '0009876543' });
      const bytes = file([up1('20240401'), bad('131012'), up1('20240501'), bad('131013')]);
      const inline = await outcomeOf(() => importCareplanFile(ctx, party, n, bytes));
      const e = await outcomeOf(() => importCareplanFile(pooled, party, n, bytes));
      expect(e.status).to.equal(422);
      expect(e.issues).to.deep.equal(inline.issues);
      expect(e.issues.map((i) => i.expression)).to.include(`${n}:4:2`);
      expect(await statuses(ctx, 'kyotaku-careplan-1')).to.deep.equal([]);
    });
  });

  describe('CLI', () => {
    it('careplan-csv import applies send units in time-stamp order; export writes the current plans', function () {
      this.timeout(120000);
      const dir = mkdtempSync(join(tmpdir(), 'kaigo-cp-cli-'));
      try {
        const inDir = join(dir, 'in');
        const outDir = join(dir, 'out');
        execFileSync('mkdir', ['-p', inDir]);
        // the deletion (later time stamp) is given first on the command line: the CLI sorts
        writeFileSync(
          join(inDir, nameOf('DLT1KYO', '20240601100000')),
          file([record('DLT1KYO', { ...KEY, 4: '20240401' })]),
        );
        writeFileSync(join(inDir, nameOf('UP1KYO', '20240401100000')), file([up1('20240401')]));
        writeFileSync(join(inDir, nameOf('UP1KYO', '20240501100000')), file([up1('20240501')]));
        const env = { ...process.env, TZ: 'Asia/Tokyo' };
        const bin = join(process.cwd(), 'bin', 'kaigo-gateway.js');
        const files = readdirSync(inDir)
          .sort()
          .reverse()
          .map((f) => join(inDir, f));
        const out = execFileSync('node', [bin, 'careplan-csv', 'import', '--data-dir', join(dir, 'data'), ...files], {
          env,
          encoding: 'utf8',
        });
        expect(
          out
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(':')[0]),
        ).to.deep.equal([
          nameOf('UP1KYO', '20240401100000'),
          nameOf('UP1KYO', '20240501100000'),
          nameOf('DLT1KYO', '20240601100000'),
        ]);
        expect(out).to.include('1 deleted');
        execFileSync(
          'node',
          [
            bin,
            'careplan-csv',
            'export',
            '--data-dir',
            join(dir, 'data'),
            '--out',
            outDir,
            '--to',
            '1371000009_15',
            '--timestamp',
            '20240701120000',
          ],
          { env, encoding: 'utf8' },
        );
        expect(readdirSync(outDir)).to.deep.equal(['UP1KYO_1370000018_43_1371000009_15_20240701120000.CSV']);
        expect(Buffer.compare(readFileSync(join(outDir, readdirSync(outDir)[0]!)), file([up1('20240501')]))).to.equal(
          0,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('CLI with worker threads', () => {
    it('careplan-csv import --workers builds on worker threads and stores the same documents', function () {
      this.timeout(120000);
      const dir = mkdtempSync(join(tmpdir(), 'kaigo-cp-cli-w-'));
      try {
        const n = nameOf('UP2KYO', '20240401100000');
        writeFileSync(join(dir, n), file(up2('20240401')));
        const bin = join(process.cwd(), 'bin', 'kaigo-gateway.js');
        const args = ['careplan-csv', 'import', '--data-dir', join(dir, 'data'), '--workers', '1', join(dir, n)];
        const out = execFileSync('node', [bin, ...args], {
          env: { ...process.env, TZ: 'Asia/Tokyo' },
          encoding: 'utf8',
        });
        expect(out).to.equal(`${n}: 1 document(s) (1 new), 0 superseded, 0 deleted\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('over HTTP (mutual TLS, the care-office certificate)', () => {
    let gw: TestGateway;
    before(async function () {
      this.timeout(60000);
      gw = await startTestGateway();
    });
    after(async () => gw?.stop());

    const put = (client: string, path: string, body: Buffer) =>
      request(`${gw.url}${path}`, {
        method: 'PUT',
        dispatcher: gw.client(client).agent,
        headers: { 'content-type': 'text/csv; charset=Shift_JIS' },
        body,
      });
    const get = (client: string, path: string) =>
      request(`${gw.url}${path}`, { method: 'GET', dispatcher: gw.client(client).agent });

    it('PUT stores the file (201, summary), GET gives the same bytes back, PUT again is 200', async () => {
      const n = nameOf('UP2KYO', '20240401100000');
      const bytes = file(up2('20240401'));
      const r = await put('care-office', `/careplan-csv/${n}`, bytes);
      const summary = (await r.body.json()) as { documents: unknown[] };
      expect(r.statusCode, JSON.stringify(summary)).to.equal(201);
      expect(summary.documents).to.have.length(1);
      const g = await get('care-office', `/careplan-csv/${n}`);
      expect(g.statusCode).to.equal(200);
      expect(g.headers['content-type']).to.match(/^text\/csv; charset=Shift_JIS/i);
      expect(Buffer.compare(Buffer.from(await g.body.arrayBuffer()), bytes)).to.equal(0);
      const again = await put('care-office', `/careplan-csv/${n}`, bytes);
      expect(again.statusCode).to.equal(200);
      await again.body.dump();
    });

    it('a bad file is a 422 OperationOutcome naming file:line:column; another party may neither send nor read', async () => {
      const n = nameOf('UP3KYO', '20240401100000');
      const r = await put(
        'care-office',
        `/careplan-csv/${n}`,
        file([...up3('20240401'), record('UP3KYO', { ...KEY, 4: '20240401', 5: '20240401', 7: '8' })]),
      );
      const body = (await r.body.json()) as { resourceType: string; issue: Array<{ expression: string[] }> };
      expect(r.statusCode).to.equal(422);
      expect(body.resourceType).to.equal('OperationOutcome');
      expect(body.issue[0]!.expression).to.deep.equal([`${n}:3:7`]);
      const other = await put('hospital', `/careplan-csv/${n}`, file(up3('20240401')));
      expect(other.statusCode).to.equal(403);
      await other.body.dump();
      const ok = await put('care-office', `/careplan-csv/${n}`, file(up3('20240401')));
      expect(ok.statusCode).to.equal(201);
      await ok.body.dump();
      const read = await get('municipality', `/careplan-csv/${n}`);
      expect(read.statusCode).to.equal(403);
      await read.body.dump();
    });
  });
});

void (null as unknown as List);
