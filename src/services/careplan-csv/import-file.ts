// Importing one standard care-plan CSV file (居宅: UP1KYO/UP2KYO/UP3KYO/UPHOSOKU/UPPLAN/UPSIKYU and the deletions
// DLT1KYO/DLTPLAN). One file is one store transaction: every document of it is stored, or nothing.
// A document replaces the stored one with the same key (保険者番号+被保険者番号+計画作成(変更)日 or 対象年月) from the
// same office: the old DocumentReference becomes `superseded`. A deletion marks the stored documents of its
// key and of the tables that depend on it `entered-in-error` (DLT1KYO: 第1・2・3表, DLTPLAN: 第6・7表).
// Stored documents are found by that key inside the transaction (slots.ts), so the file sees its own writes and
// those of files committed together with it. Documents are built (translate + validate) ahead of the store, on
// the context's worker threads when it has them (services/documents/build-ahead.ts).
import { createHash } from 'node:crypto';
import type { DocumentReference, List } from 'fhir/r4.js';
import { partyKey, type Party } from '../../base/party.js';
import { getPath, type Json, type JsonObject } from '../../base/json-paths.js';
import {
  conflict,
  issue,
  OperationOutcomeError,
  throwIfErrors,
  unprocessable,
  type Issue,
} from '../../base/outcome.js';
import type { FormDocument, FormKeys } from '../../engine/forms/assemble-document.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { indexResource } from '../../engine/search/search-parameters.js';
import { lookahead } from '../documents/build-ahead.js';
import { prepareDocumentOffThread, storeDocument } from '../documents/submit-document.js';
import { readRows, rowsToDocuments, setSlotPath } from './codec.js';
import {
  careplanLayouts,
  DELETION_KEY_SYSTEM,
  FILE_ID_SYSTEM,
  formOf,
  listIdOf,
  SHA256_EXT,
  storedPayload,
} from './file-records.js';
import { parseFileName, type CareplanFileName } from './file-name.js';
import type { Layout, LayoutColumn } from './layout.js';
import { parseCsv } from './sjis-csv.js';
import { currentInSlot, setStatus, slotKeys } from './slots.js';

/** Documents built ahead of the store when the context builds on worker threads: enough to keep them all busy. */
const BUILD_AHEAD = 64;

export interface ImportSummary {
  file: string;
  type: string;
  /** true when this very file had been imported before (nothing changed) */
  replay: boolean;
  documents: Array<{ line: number; form: string; documentReference: string; created: boolean }>;
  superseded: string[];
  deleted: string[];
}

/** payload path of a submit issue ("issues[0].goals[1].content") → the layout column holding it. */
function columnOfPath(layout: Layout, path: string | undefined): LayoutColumn | undefined {
  if (!path) return undefined;
  const norm = path.replace(/\[[0-9]+\]/g, '');
  return layout.columns.find((c) => (c.path ?? c.match)?.replace(/\[[0-9]*\]/g, '') === norm);
}

function keyOf(layout: Layout, payload: JsonObject): Record<string, Json> {
  const key: Record<string, Json> = {};
  for (const no of layout.documentKey ?? []) {
    const p = layout.columns[no - 1]!.path!;
    key[p] = getPath(payload, p) as Json;
  }
  return key;
}

/** The document layout of a form: whose key columns say which stored documents one of its documents replaces. */
const documentLayoutOf = (form: string): Layout =>
  [...careplanLayouts().values()].find((l) => l.kind === 'document' && l.form === form)!;

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

/** What to store, from the rows, before any transaction. */
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

function planFile(
  ctx: GatewayContext,
  layout: Layout,
  rows: ReturnType<typeof readRows>,
  header: JsonObject,
  where: (line: number, column?: number) => string,
): Plan[] {
  const issues: Issue[] = [];
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
      const k = JSON.stringify(keyOf(layout, p.payload));
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
  return plans;
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
  const plans = planFile(ctx, layout, rows, { senderOfficeNumber: name.senderOffice }, where);
  const author = partyKey(party);

  /** A refused document's issues at the CSV line and column its payload path came from (the path kept too). */
  const atCsv = (e: unknown, line: number, keyCol: number | undefined): unknown => {
    if (!(e instanceof OperationOutcomeError) || e.status !== 422) return e;
    return new OperationOutcomeError(
      422,
      e.issues.map((i) => {
        const col = columnOfPath(layout, i.expression);
        return {
          ...i,
          diagnostics: `${i.diagnostics}${i.expression ? ` (${i.expression})` : ''}`,
          expression: where(line, col?.no ?? keyCol),
        };
      }),
    );
  };
  const build = (def: FormDefinition, payload: JsonObject, line: number, keyCol?: number): Promise<FormDocument> =>
    prepareDocumentOffThread(ctx, party, def, payload).catch((e: unknown) => Promise.reject(atCsv(e, line, keyCol)));

  // A document file's documents depend on nothing stored: their builds start now, before the transaction, and run
  // ahead of the store inside it. Supplements need their parent document, read inside the transaction. A file
  // imported before (the transaction decides: 200 or 409) starts nothing ahead.
  const listId = listIdOf(fileName);
  const ahead = ctx.builder && !(await ctx.store.read('List', listId)) ? BUILD_AHEAD : 0;
  const built = lookahead(layout.kind === 'document' ? plans.length : 0, ahead, async (i) => {
    const p = plans[i] as Extract<Plan, { kind: 'document' }>;
    return build(p.def, p.payload, p.line);
  });

  const summary: ImportSummary = {
    file: fileName,
    type: name.type,
    replay: false,
    documents: [],
    superseded: [],
    deleted: [],
  };
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

    /** Stores one built document; the current ones of its key from this office become superseded. */
    const store = async (def: FormDefinition, doc: FormDocument, keys: FormKeys, line: number): Promise<string> => {
      const res = await storeDocument(ctx, tx, party, def, doc);
      const id = res.documentReferenceId;
      if (res.created) created.push(def.name);
      else {
        const rec = await tx.read('DocumentReference', id);
        if (rec && (rec.resource as DocumentReference).status !== 'current')
          await setStatus(ctx, tx, rec, 'current', keys);
      }
      for (const old of await currentInSlot(tx, def, author, keys)) {
        if (old.resource.id === id) continue;
        await setStatus(ctx, tx, old, 'superseded');
        summary.superseded.push(old.resource.id);
      }
      summary.documents.push({ line, form: def.name, documentReference: id, created: res.created });
      entries.push({ item: { reference: `DocumentReference/${id}` } });
      return id;
    };

    // A supplement is its parent document rebuilt with it: the parent is read here, in the transaction, and the
    // rebuilds run ahead too. Reading the parents of later rows before storing this one is safe: no two rows of
    // a file name one parent (planFile refuses it), and storing a supplement touches only its own parent's key.
    const supplemented = lookahead(layout.kind === 'supplement' ? plans.length : 0, ahead, async (i) => {
      const p = plans[i] as Extract<Plan, { kind: 'supplement' }>;
      const [found] = await currentInSlot(tx, p.parent, author, slotKeys(p.parent, p.key));
      if (!found)
        throw unprocessable(
          `no stored ${p.parent.mapping.title} of this office has this key (${Object.values(p.key).join(', ')}); send it first (same send unit)`,
          where(p.line, p.keyColumn),
        );
      const payload = { ...(await storedPayload(tx.read, p.parent, found.resource as DocumentReference)) };
      payload.supplement = p.supplement;
      return build(p.parent, payload, p.line, p.keyColumn);
    });

    const storePlans = async (): Promise<void> => {
      for (const [i, p] of plans.entries()) {
        if (p.kind === 'document') {
          const doc = await built.take(i);
          await store(p.def, doc, slotKeys(p.def, keyOf(documentLayoutOf(p.def.name), p.payload)), p.line);
        } else if (p.kind === 'supplement') {
          await store(p.parent, await supplemented.take(i), slotKeys(p.parent, p.key), p.line);
        } else {
          for (const form of layout.cascade ?? []) {
            const def = formOf(ctx, form);
            for (const d of await currentInSlot(tx, def, author, slotKeys(def, p.key))) {
              await setStatus(ctx, tx, d, 'entered-in-error');
              summary.deleted.push(d.resource.id);
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
    };

    try {
      await storePlans();
    } finally {
      // Nothing may read through `tx` once the transaction is over.
      await supplemented.settled();
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
    await tx.put({ resource: list, access: { author }, index: indexResource(ctx.searchParams, list) });
    return 201 as const;
  });
  for (const form of created) ctx.events?.stored?.(form);
  return { status, summary };
}
