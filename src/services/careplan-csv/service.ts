// Importing and exporting standard care-plan CSV files (居宅: UP1KYO/UP2KYO/UP3KYO/UPHOSOKU/UPPLAN/UPSIKYU and the
// deletions DLT1KYO/DLTPLAN). One file is one store transaction: every document of it is stored, or nothing.
// A document replaces the stored one with the same key (保険者番号+被保険者番号+計画作成(変更)日 or 対象年月) from the
// same office: the old DocumentReference becomes `superseded`. A deletion marks the stored documents of its
// key and of the tables that depend on it `entered-in-error` (DLT1KYO: 第1・2・3表, DLTPLAN: 第6・7表).
// The file itself is remembered as a FHIR List (identifier = file name, entries = the documents in file order),
// so GET regenerates it from the stored documents.
import { createHash } from 'node:crypto';
import type { DocumentReference, List } from 'fhir/r4.js';
import { partyKey, type Party } from '../../base/party.js';
import { submitDocument } from '../documents/submit-document.js';
import { CANONICAL_BASE, deterministicUuid } from '../../base/ids.js';
import {
  conflict,
  issue,
  notFound,
  OperationOutcomeError,
  throwIfErrors,
  unprocessable,
  type Issue,
} from '../../base/outcome.js';
import { indexResource } from '../../engine/search/search-parameters.js';
import { INSURED_NUMBER_SYSTEM, INSURER_NUMBER_SYSTEM } from '../../engine/forms/assemble-document.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import { getPath, type Json, type JsonObject } from '../../base/json-paths.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { allOf, anyOf, eq } from '../../engine/storage/row-filter.js';
import type { StoredRecord, StoreTx } from '../../engine/storage/store.js';
import {
  documentToRows,
  getSlotPath,
  readRows,
  rowsToDocuments,
  rowToFields,
  setSlotPath,
  writeCell,
} from './codec.js';
import { storedPayload as payloadOf } from '../documents/stored-payload.js';
import { fileComparator, formatFileName, parseFileName, type CareplanFileName } from './file-name.js';
import { levelOf, loadLayouts, type Layout, type LayoutColumn } from './layout.js';
import { parseCsv, writeCsv, type OutField } from './sjis-csv.js';

export const FILE_ID_SYSTEM = `${CANONICAL_BASE}/IdSystem/careplan-csv-file`;
export const DELETION_KEY_SYSTEM = `${CANONICAL_BASE}/IdSystem/careplan-csv-deletion-key`;
const SHA256_EXT = `${CANONICAL_BASE}/StructureDefinition/careplan-csv-sha256`;
const DOC_TYPE_SYSTEM = `${CANONICAL_BASE}/CodeSystem/document-type`;

let layoutCache: Map<string, Layout> | undefined;
export const careplanLayouts = (): Map<string, Layout> => (layoutCache ??= loadLayouts());

export interface ImportSummary {
  file: string;
  type: string;
  /** true when this very file had been imported before (nothing changed) */
  replay: boolean;
  documents: Array<{ line: number; form: string; documentReference: string; created: boolean }>;
  superseded: string[];
  deleted: string[];
}

const listIdOf = (fileName: string): string => deterministicUuid('careplan-csv-file', fileName);

function formOf(ctx: GatewayContext, name: string): FormDefinition {
  const def = ctx.forms.get(name);
  if (!def) throw new Error(`form ${name} named by a care-plan CSV layout is not loaded`);
  return def;
}

/** The payload of a stored document (it must have one: the care-plan documents are all ours). */
async function storedPayload(
  read: StoreTx['read'],
  def: FormDefinition,
  docRef: DocumentReference,
): Promise<JsonObject> {
  const payload = await payloadOf(read, def, docRef);
  if (!payload) throw new Error(`DocumentReference/${docRef.id} has no QuestionnaireResponse`);
  return payload;
}

/** Current documents of `form` for one insured person, visible as authored by `party` (all authors when undefined). */
async function currentDocuments(
  ctx: GatewayContext,
  form: string,
  o: { party?: Party; insurerNumber?: string; insuredNumber?: string },
): Promise<StoredRecord[]> {
  const clauses = [
    { kind: 'token' as const, param: 'type', values: [{ system: DOC_TYPE_SYSTEM, code: form }] },
    { kind: 'token' as const, param: 'status', values: [{ code: 'current' }] },
    ...(o.insuredNumber
      ? [
          {
            kind: 'token' as const,
            param: 'insured-number',
            values: [{ system: INSURED_NUMBER_SYSTEM, code: o.insuredNumber }],
          },
        ]
      : []),
    ...(o.insurerNumber
      ? [
          {
            kind: 'token' as const,
            param: 'insurer-number',
            values: [{ system: INSURER_NUMBER_SYSTEM, code: o.insurerNumber }],
          },
        ]
      : []),
  ];
  // A data selection, not an access decision: an import supersedes and deletes only the sending office's own
  // documents (even ones it might some day be allowed to read from others), and the operator's export (no caller)
  // takes every office's.
  const scope = o.party ? anyOf(allOf(eq('author', partyKey(o.party)))) : anyOf(allOf(eq('form', form)));
  const out: StoredRecord[] = [];
  for (let offset = 0; ; offset += 500) {
    const page = await ctx.store.search(
      { resourceType: 'DocumentReference', clauses, count: 500, offset, sort: 'lastUpdated' },
      scope,
    );
    out.push(...page.records);
    if (page.records.length < 500) return out;
  }
}

async function findByKey(
  ctx: GatewayContext,
  read: StoreTx['read'],
  party: Party,
  form: string,
  key: Record<string, Json>,
): Promise<Array<{ rec: StoredRecord; payload: JsonObject }>> {
  const def = formOf(ctx, form);
  const recs = await currentDocuments(ctx, form, {
    party,
    insurerNumber: String(key['header.insurerNumber']),
    insuredNumber: String(key['header.insuredNumber']),
  });
  const out: Array<{ rec: StoredRecord; payload: JsonObject }> = [];
  for (const rec of recs) {
    const payload = await storedPayload(read, def, rec.resource as DocumentReference);
    if (Object.entries(key).every(([p, v]) => getPath(payload, p) === v)) out.push({ rec, payload });
  }
  return out;
}

async function setStatus(
  ctx: GatewayContext,
  tx: StoreTx,
  rec: StoredRecord,
  status: DocumentReference['status'],
): Promise<void> {
  const resource = { ...(rec.resource as DocumentReference & { id: string }), status };
  await tx.put({ resource, access: rec.access, index: indexResource(ctx.searchParams, resource) });
}

/** payload path of a submit issue ("issues[0].goals[1].content") → the layout column holding it. */
function columnOfPath(layout: Layout, path: string | undefined): LayoutColumn | undefined {
  if (!path) return undefined;
  const norm = path.replace(/\[[0-9]+\]/g, '');
  return layout.columns.find((c) => (c.path ?? c.match)?.replace(/\[[0-9]*\]/g, '') === norm);
}

function keyOf(layout: Layout, def: FormDefinition, payload: JsonObject): Record<string, Json> {
  const key: Record<string, Json> = {};
  for (const no of layout.documentKey ?? []) {
    const p = layout.columns[no - 1]!.path!;
    key[p] = getPath(payload, p) as Json;
  }
  void def;
  return key;
}

/** The forms whose documents a file of this layout stores, supplements or deletes: what sending it must be allowed. */
function formsWrittenBy(layout: Layout): string[] {
  const forms =
    layout.kind === 'document'
      ? [layout.form!]
      : layout.kind === 'supplement'
        ? [...new Set(Object.values(layout.parents ?? {}).map((p) => p.form))]
        : (layout.cascade ?? []);
  // A layout naming no form would be authorised by nothing at all; refuse it rather than let it through.
  if (forms.length === 0) throw new Error(`care-plan CSV layout ${layout.type} names no form`);
  return forms;
}

/** Checks and converts a whole file; throws one 422 listing every problem, each at <file>:<line>:<column>. */
function parseFile(
  fileName: string,
  bytes: Buffer,
): { name: CareplanFileName; layout: Layout; rows: ReturnType<typeof readRows> } {
  const layouts = careplanLayouts();
  const name = parseFileName(fileName, layouts);
  const layout = layouts.get(name.type)!;
  const where = (line: number, column: number): string => `${fileName}:${line}:${column}`;
  const { records, problems } = parseCsv(bytes);
  const issues: Issue[] = problems.map((p) => issue(p.code, p.message, where(p.line, p.column)));
  const rows = readRows(layout, records, where, issues);
  if (layout.fileMonthColumn !== undefined && name.month !== undefined) {
    for (const r of rows) {
      const raw = r.raw[layout.fileMonthColumn - 1];
      if (raw !== name.month)
        issues.push(
          issue(
            'invariant',
            `${layout.columns[layout.fileMonthColumn - 1]!.name} ${raw} differs from the file name's 対象年月 ${name.month}`,
            where(r.line, layout.fileMonthColumn),
          ),
        );
    }
  }
  if (layout.kind === 'supplement') {
    for (const r of rows) {
      const [dateCol, monthCol] = [
        layout.columns.find((c) => c.link === 'planDate')!,
        layout.columns.find((c) => c.link === 'targetMonth')!,
      ];
      const date = r.raw[dateCol.no - 1];
      const month = r.raw[monthCol.no - 1];
      if (name.month === '000000' && (month !== monthCol.zero || date === dateCol.zero))
        issues.push(
          issue(
            'invariant',
            `a UPHOSOKU_000000 file belongs to 第1表: 対象年月 must be ${monthCol.zero} and 居宅サービス計画作成（変更）日 a date`,
            where(r.line, month !== monthCol.zero ? monthCol.no : dateCol.no),
          ),
        );
      if (name.month !== '000000' && (month !== name.month || date !== dateCol.zero))
        issues.push(
          issue(
            'invariant',
            `a UPHOSOKU_${name.month} file belongs to 第6表: 対象年月 must be ${name.month} and 居宅サービス計画作成（変更）日 ${dateCol.zero}`,
            where(r.line, month !== name.month ? monthCol.no : dateCol.no),
          ),
        );
    }
  }
  throwIfErrors(issues);
  return { name, layout, rows };
}

export async function importCareplanFile(
  ctx: GatewayContext,
  party: Party,
  fileName: string,
  bytes: Buffer,
): Promise<{ status: 200 | 201; summary: ImportSummary }> {
  const { name, layout, rows } = parseFile(fileName, bytes);
  // Sending a file is submitting every form it writes, in the name of the office the file name gives.
  for (const form of formsWrittenBy(layout))
    ctx.policy.enforce(party, {
      action: 'submit',
      form,
      issuerCode: name.senderOffice,
      issuerNamedBy: "the file name's 送信元事業所番号",
    });
  const where = (line: number, column?: number): string =>
    `${fileName}:${line}${column !== undefined ? `:${column}` : ''}`;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const header: JsonObject = { senderOfficeNumber: name.senderOffice };
  const issues: Issue[] = [];

  // Rows → what to store, before any transaction.
  type Plan =
    | { kind: 'document'; def: FormDefinition; payload: JsonObject; line: number }
    | {
        kind: 'supplement';
        parent: FormDefinition;
        key: Record<string, Json>;
        supplement: Json;
        line: number;
        keyColumn: number;
      }
    | { kind: 'delete'; key: Record<string, Json>; line: number };
  const plans: Plan[] = [];
  if (layout.kind === 'document') {
    const def = formOf(ctx, layout.form!);
    for (const d of rowsToDocuments(layout, rows, header, where, issues))
      plans.push({ kind: 'document', def, payload: d.payload, line: d.line });
  } else if (layout.kind === 'supplement') {
    const seen = new Map<string, number>();
    for (const r of rows) {
      const link =
        r.cells.get(layout.columns.find((c) => c.link === 'planDate')!.no) !== undefined ? 'planDate' : 'targetMonth';
      const linkCol = layout.columns.find((c) => c.link === link)!;
      const parent = layout.parents![link];
      const holder: JsonObject = {};
      for (const c of layout.columns) {
        if (!c.path || !c.path.startsWith(`${layout.group}.`)) continue;
        const v = r.cells.get(c.no);
        if (v === undefined) continue;
        const problem = setSlotPath(holder, c.path, v);
        if (problem) issues.push(issue('structure', `${c.name} (No.${c.no}): ${problem}`, where(r.line, c.no)));
      }
      const key = {
        'header.insurerNumber': r.cells.get(2)!,
        'header.insuredNumber': r.cells.get(3)!,
        [parent.path]: r.cells.get(linkCol.no)!,
      };
      const k = JSON.stringify(key);
      if (seen.has(k))
        issues.push(
          issue(
            'duplicate',
            `line ${seen.get(k)} already gives the 利用者補足情報 of this ${link === 'planDate' ? '第1表' : '第6表'}`,
            where(r.line, 2),
          ),
        );
      seen.set(k, r.line);
      plans.push({
        kind: 'supplement',
        parent: formOf(ctx, parent.form),
        key,
        supplement: holder[layout.group!] ?? {},
        line: r.line,
        keyColumn: linkCol.no,
      });
    }
  } else {
    for (const r of rows) {
      const key: Record<string, Json> = {};
      for (const c of layout.columns) if (c.match) key[c.match] = r.cells.get(c.no)!;
      plans.push({ kind: 'delete', key, line: r.line });
    }
  }
  if (layout.kind === 'document') {
    const seen = new Map<string, number>();
    for (const p of plans) {
      if (p.kind !== 'document') continue;
      const k = JSON.stringify(keyOf(layout, p.def, p.payload));
      if (seen.has(k))
        issues.push(
          issue(
            'duplicate',
            `line ${seen.get(k)} already holds this document's key`,
            where(p.line, layout.documentKey![0]),
          ),
        );
      seen.set(k, p.line);
    }
  }
  throwIfErrors(issues);

  const summary: ImportSummary = {
    file: fileName,
    type: name.type,
    replay: false,
    documents: [],
    superseded: [],
    deleted: [],
  };
  const listId = listIdOf(fileName);
  const created: string[] = [];
  const status = await ctx.store.transaction(async (tx) => {
    const existing = await tx.read('List', listId);
    if (existing) {
      const stored = (existing.resource as List).extension?.find((e) => e.url === SHA256_EXT)?.valueString;
      if (stored !== sha256) throw conflict(`${fileName} was already imported with different content`, fileName);
      summary.replay = true;
      return 200 as const;
    }
    const entries: NonNullable<List['entry']> = [];
    const submit = async (
      def: FormDefinition,
      payload: JsonObject,
      line: number,
      keyCol: number | undefined,
    ): Promise<string> => {
      let res;
      try {
        res = await submitDocument(ctx, tx, party, def, payload);
      } catch (e) {
        if (e instanceof OperationOutcomeError && e.status === 422) {
          throw new OperationOutcomeError(
            422,
            e.issues.map((i) => {
              // Point at the CSV column the payload path came from; the diagnostics keep the payload path too.
              const col = columnOfPath(careplanLayouts().get(name.type)!, i.expression);
              return {
                ...i,
                diagnostics: `${i.diagnostics}${i.expression ? ` (${i.expression})` : ''}`,
                expression: where(line, col?.no ?? keyCol),
              };
            }),
          );
        }
        throw e;
      }
      const id = res.documentReferenceId;
      if (res.created) created.push(def.name);
      else {
        const rec = await tx.read('DocumentReference', id);
        if (rec && (rec.resource as DocumentReference).status !== 'current') await setStatus(ctx, tx, rec, 'current');
      }
      const keyLayout = [...careplanLayouts().values()].find((l) => l.kind === 'document' && l.form === def.name)!;
      for (const old of await findByKey(ctx, tx.read, party, def.name, keyOf(keyLayout, def, payload))) {
        if (old.rec.resource.id === id) continue;
        await setStatus(ctx, tx, old.rec, 'superseded');
        summary.superseded.push(old.rec.resource.id);
      }
      summary.documents.push({ line, form: def.name, documentReference: id, created: res.created });
      return id;
    };
    for (const p of plans) {
      if (p.kind === 'document') {
        const id = await submit(p.def, p.payload, p.line, undefined);
        entries.push({ item: { reference: `DocumentReference/${id}` } });
      } else if (p.kind === 'supplement') {
        const found = await findByKey(ctx, tx.read, party, p.parent.name, p.key);
        if (found.length === 0)
          throw unprocessable(
            `no stored ${p.parent.mapping.title} of this office has this key (${Object.values(p.key).join(', ')}); send it first (same send unit)`,
            where(p.line, p.keyColumn),
          );
        const payload = { ...found[0]!.payload, supplement: p.supplement };
        const id = await submit(p.parent, payload, p.line, p.keyColumn);
        entries.push({ item: { reference: `DocumentReference/${id}` } });
      } else {
        for (const form of layout.cascade ?? []) {
          for (const d of await findByKey(ctx, tx.read, party, form, p.key)) {
            await setStatus(ctx, tx, d.rec, 'entered-in-error');
            summary.deleted.push(d.rec.resource.id);
          }
        }
        entries.push({
          item: {
            identifier: {
              system: DELETION_KEY_SYSTEM,
              value: layout.columns
                .filter((c) => c.match)
                .map((c) => String(p.key[c.match!]))
                .join('|'),
            },
          },
        });
      }
    }
    const list: List & { id: string } = {
      resourceType: 'List',
      id: listId,
      extension: [{ url: SHA256_EXT, valueString: sha256 }],
      identifier: [{ system: FILE_ID_SYSTEM, value: fileName }],
      status: 'current',
      mode: 'snapshot',
      title: fileName,
      date: ctx.clock(),
      ...(entries.length ? { entry: entries } : { emptyReason: { text: 'the file holds no records' } }),
    };
    await tx.put({ resource: list, access: { author: partyKey(party) }, index: indexResource(ctx.searchParams, list) });
    return 201 as const;
  });
  for (const form of created) ctx.events?.stored?.(form);
  return { status, summary };
}

/** Rows of one stored document for a layout (a supplement: the one row of its parent document). */
function rowsOf(layout: Layout, payload: JsonObject): Map<number, unknown>[] {
  if (layout.kind === 'document') return documentToRows(layout, payload);
  const row = new Map<number, unknown>();
  for (const c of layout.columns) {
    if (c.link) {
      const parent = layout.parents![c.link];
      row.set(c.no, getPath(payload, parent.path));
    } else if (c.path) row.set(c.no, getSlotPath(payload, c.path));
  }
  return [row];
}

function fieldsOf(layout: Layout, row: Map<number, unknown>): OutField[] {
  return layout.columns.map((c) =>
    c.link && (row.get(c.no) === undefined || row.get(c.no) === null)
      ? { text: c.zero!, quote: false }
      : writeCell(c, row.get(c.no)),
  );
}

function encode(fileName: string, records: OutField[][]): Buffer {
  try {
    return writeCsv(records);
  } catch (e) {
    throw unprocessable(`${fileName}: ${(e as Error).message}`, fileName);
  }
}

/** The file as imported, regenerated from the stored documents. */
export async function exportCareplanFile(ctx: GatewayContext, party: Party, fileName: string): Promise<Buffer> {
  const layouts = careplanLayouts();
  const name = parseFileName(fileName, layouts);
  const layout = layouts.get(name.type)!;
  const list = await ctx.store.read('List', listIdOf(fileName));
  if (!list) throw notFound(`${fileName} has not been imported`);
  ctx.policy.enforce(party, { action: 'read', tag: list.access, label: fileName });
  const records: OutField[][] = [];
  for (const e of (list.resource as List).entry ?? []) {
    if (e.item.identifier) {
      const values = (e.item.identifier.value ?? '').split('|');
      const row = new Map<number, unknown>();
      layout.columns.filter((c) => c.match).forEach((c, k) => row.set(c.no, values[k]));
      records.push(fieldsOf(layout, row));
      continue;
    }
    const id = (e.item.reference ?? '').replace(/^DocumentReference\//, '');
    const rec = await ctx.store.read('DocumentReference', id);
    if (!rec || !rec.access.form) throw new Error(`${fileName}: DocumentReference/${id} is missing`);
    const payload = await storedPayload(
      (t, i) => ctx.store.read(t, i),
      formOf(ctx, rec.access.form),
      rec.resource as DocumentReference,
    );
    for (const row of rowsOf(layout, payload)) records.push(fieldsOf(layout, row));
  }
  return encode(fileName, records);
}

/**
 * The current plans as standard files, one send unit per office for 第1–3表 (+UPHOSOKU_000000) and one per office
 * and 対象年月 for 第6・7表 (+UPHOSOKU_YYYYMM); each unit gets its own time stamp, one second apart from `timestamp`.
 */
export async function exportCurrentPlans(
  ctx: GatewayContext,
  o: { receiverOffice: string; receiverServiceType: string; timestamp: string; senderServiceType?: string },
): Promise<Array<{ name: string; bytes: Buffer }>> {
  const layouts = careplanLayouts();
  type Doc = { form: string; payload: JsonObject };
  const docs: Doc[] = [];
  for (const l of layouts.values()) {
    if (l.kind !== 'document') continue;
    const def = formOf(ctx, l.form!);
    for (const rec of await currentDocuments(ctx, l.form!, {}))
      docs.push({
        form: l.form!,
        payload: await storedPayload((t, i) => ctx.store.read(t, i), def, rec.resource as DocumentReference),
      });
  }
  const sortKey = (d: Doc): string =>
    [
      getPath(d.payload, 'header.insurerNumber'),
      getPath(d.payload, 'header.insuredNumber'),
      getPath(d.payload, 'header.planDate') ?? getPath(d.payload, 'header.targetMonth'),
    ].join('|');
  docs.sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
  const units = new Map<string, { sender: string; month?: string; docs: Doc[] }>();
  for (const d of docs) {
    const sender = String(getPath(d.payload, 'header.senderOfficeNumber'));
    const monthly = [...layouts.values()].some((l) => l.form === d.form && l.sendUnits?.includes('month'));
    const month = monthly ? String(getPath(d.payload, 'header.targetMonth')).replace('-', '') : undefined;
    const k = `${sender}|${month ?? ''}`;
    if (!units.has(k)) units.set(k, { sender, ...(month ? { month } : {}), docs: [] });
    units.get(k)!.docs.push(d);
  }
  const out: Array<{ name: string; bytes: Buffer }> = [];
  let tick = 0;
  const stamp = (n: number): string => {
    const t = o.timestamp;
    const d = new Date(
      Date.UTC(
        +t.slice(0, 4),
        +t.slice(4, 6) - 1,
        +t.slice(6, 8),
        +t.slice(8, 10),
        +t.slice(10, 12),
        +t.slice(12, 14) + n,
      ),
    );
    return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  };
  for (const unit of [...units.values()].sort(
    (a, b) => (a.month ?? '').localeCompare(b.month ?? '') || a.sender.localeCompare(b.sender),
  )) {
    const timestamp = stamp(tick++);
    const unitKind = unit.month ? 'month' : 'plan';
    const unitLayouts = [...layouts.values()]
      .filter((l) => l.sendUnits?.includes(unitKind))
      .sort((a, b) => a.order - b.order);
    for (const layout of unitLayouts) {
      const type = layout.type;
      // 利用者補足情報 goes with the parent table of its unit (第1表 for plan units, 第6表 for monthly ones).
      const wanted =
        layout.kind === 'supplement' ? layout.parents?.[unit.month ? 'targetMonth' : 'planDate'].form : layout.form;
      const records: OutField[][] = [];
      for (const d of unit.docs) {
        if (d.form !== wanted) continue;
        if (layout.kind === 'supplement' && d.payload.supplement === undefined) continue;
        for (const row of rowsOf(layout, d.payload)) records.push(fieldsOf(layout, row));
      }
      if (records.length === 0) continue;
      const fileName = formatFileName({
        type,
        ...(layout.fileNameMonth !== 'none' ? { month: unit.month ?? '000000' } : {}),
        senderOffice: unit.sender,
        senderServiceType: o.senderServiceType ?? '43',
        receiverOffice: o.receiverOffice,
        receiverServiceType: o.receiverServiceType,
        timestamp,
      });
      out.push({ name: fileName, bytes: encode(fileName, records) });
    }
  }
  return out;
}

export { fileComparator, parseFileName, levelOf, rowToFields };
