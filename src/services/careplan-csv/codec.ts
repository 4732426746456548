// CSV records ⇄ care-form payloads, driven only by the layout data (mappings/careplan-csv/*.json).
import { issue, type Issue } from '../../base/outcome.js';
import { isObject, type Json, type JsonObject } from '../../base/json-paths.js';
import { validDate, validMonth } from './file-name.js';
import { CSV_VERSION, levelOf, type Layout, type LayoutColumn } from './layout.js';
import type { CsvRecord, OutField } from './sjis-csv.js';

export type Where = (line: number, column: number) => string;

/** One cell → payload value; undefined for an empty cell. Problems go to `issues`. */
export function readCell(col: LayoutColumn, text: string, at: string, issues: Issue[]): Json | undefined {
  if (text === '') {
    if (col.required) issues.push(issue('required', `${col.name} (No.${col.no}) is required`, at));
    return undefined;
  }
  const bad = (why: string): undefined => {
    issues.push(issue('invalid', `${col.name} (No.${col.no}) '${text}': ${why}`, at));
    return undefined;
  };
  if (col.length !== null && col.format !== 'integer' && text.length > col.length)
    return bad(`longer than ${col.length}`);
  switch (col.format) {
    case 'version':
      if (text !== (col.fixed ?? CSV_VERSION)) {
        issues.push(
          issue(
            'code-invalid',
            `${col.name} (No.${col.no}) '${text}': only CSVバージョン ${col.fixed ?? CSV_VERSION} is supported`,
            at,
          ),
        );
        return undefined;
      }
      return text;
    case 'digits':
      if (!/^[0-9]+$/.test(text)) return bad('must be digits');
      if (col.exactLength && col.length !== null && text.length !== col.length)
        return bad(`must be ${col.length} digits`);
      return text;
    case 'insured':
      return /^([0-9]{10}|H[0-9]{9})$/.test(text) ? text : bad('must be 10 digits, or H and 9 digits (生活保護単独)');
    case 'yyyymmdd':
      return validDate(text)
        ? `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`
        : bad('not a date (YYYYMMDD)');
    case 'yyyymm':
      return validMonth(text) ? `${text.slice(0, 4)}-${text.slice(4)}` : bad('not a month (YYYYMM)');
    case 'hhmm':
      if (col.allow?.includes(text)) return text;
      return /^(([01][0-9]|2[0-3])[0-5][0-9]|2400)$/.test(text)
        ? text
        : bad(`not a time (HHMM${col.allow ? ` or ${col.allow.join('/')}` : ''})`);
    case 'integer': {
      if (!/^-?(0|[1-9][0-9]*)$/.test(text)) return bad('not an integer (no leading zeros, no separators)');
      if (col.length !== null && text.replace('-', '').length > col.length)
        return bad(`more than ${col.length} digits`);
      return Number(text);
    }
    case 'code':
      if (!col.codes?.includes(text)) {
        issues.push(
          issue('code-invalid', `${col.name} (No.${col.no}) '${text}' is not one of ${col.codes?.join(', ')}`, at),
        );
        return undefined;
      }
      return text;
    case 'free-text':
      return text;
    case 'string':
      if (col.pattern && !new RegExp(col.pattern).test(text)) return bad(`does not match ${col.pattern}`);
      return text;
  }
}

/** Payload value → cell. */
export function writeCell(col: LayoutColumn, v: unknown): OutField {
  if (col.format === 'version') return { text: col.fixed ?? CSV_VERSION, quote: false };
  if (col.format === 'free-text') return { text: v === undefined || v === null ? '' : String(v), quote: true };
  if (v === undefined || v === null) return { text: '', quote: false };
  const s = String(v);
  if (col.format === 'yyyymmdd' || col.format === 'yyyymm') return { text: s.replace(/-/g, ''), quote: false };
  return { text: s, quote: false };
}

// ---- paths with slots: "a.b[3].c" ----------------------------------------------------------------------------
type Seg = { key: string; slot?: number };
const segs = (path: string): Seg[] =>
  path.split('.').map((p) => {
    const m = /^(.*)\[([0-9]+)\]$/.exec(p);
    return m ? { key: m[1]!, slot: Number(m[2]) } : { key: p };
  });

function getSlotPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const s of segs(path)) {
    if (!isObject(cur)) return undefined;
    cur = cur[s.key];
    if (s.slot !== undefined) cur = Array.isArray(cur) ? cur[s.slot] : undefined;
  }
  return cur;
}

/** Sets a value; a slot may only be opened when the slot before it is filled ("１枠から順番に"). */
function setSlotPath(root: JsonObject, path: string, value: Json): string | undefined {
  const ss = segs(path);
  let cur: JsonObject = root;
  for (let k = 0; k < ss.length; k++) {
    const s = ss[k]!;
    const last = k === ss.length - 1;
    if (s.slot === undefined) {
      if (last) cur[s.key] = value;
      else {
        if (!isObject(cur[s.key])) cur[s.key] = {};
        cur = cur[s.key] as JsonObject;
      }
      continue;
    }
    const arr = (Array.isArray(cur[s.key]) ? cur[s.key] : (cur[s.key] = [])) as Json[];
    if (arr.length < s.slot)
      return `slot ${s.slot + 1} is used while slot ${arr.length + 1} is empty (slots are filled from 1 in order)`;
    if (arr.length === s.slot) arr.push({});
    cur = arr[s.slot] as JsonObject;
    if (last) throw new Error(`layout path ${path} ends in a slot`);
  }
  return undefined;
}

/** The part of a row-level path below its innermost "[]": "issues[].goals[].no" → "no". */
const tail = (path: string): string => path.slice(path.lastIndexOf('[]') + 3);

// ---- records → payloads ----------------------------------------------------------------------------------------
export interface ParsedRow {
  line: number;
  cells: Map<number, Json | undefined>;
  raw: string[];
}

/** Column count, then every cell; returns rows whose cells passed (problems in `issues`). */
export function readRows(layout: Layout, records: CsvRecord[], where: Where, issues: Issue[]): ParsedRow[] {
  const rows: ParsedRow[] = [];
  for (const rec of records) {
    if (rec.fields.length !== layout.columns.length) {
      issues.push(
        issue(
          'structure',
          `${layout.type} records have ${layout.columns.length} columns; this one has ${rec.fields.length}`,
          where(rec.line, Math.min(rec.fields.length, layout.columns.length + 1)),
        ),
      );
      continue;
    }
    const cells = new Map<number, Json | undefined>();
    layout.columns.forEach((col, k) => {
      const f = rec.fields[k]!;
      if (col.link !== undefined && f.text === col.zero) cells.set(col.no, undefined);
      else if (col.link !== undefined)
        cells.set(col.no, readCell({ ...col, required: false }, f.text, where(f.line, col.no), issues));
      else cells.set(col.no, readCell(col, f.text, where(f.line, col.no), issues));
    });
    rows.push({ line: rec.line, cells, raw: rec.fields.map((f) => f.text) });
  }
  return rows;
}

export interface ParsedDocument {
  payload: JsonObject;
  /** first line of the document in the file */
  line: number;
  lines: number[];
}

/** Groups rows into documents (layout.documentKey) and rows into the nested levels (layout.levels). */
export function rowsToDocuments(
  layout: Layout,
  rows: ParsedRow[],
  header: JsonObject,
  where: Where,
  issues: Issue[],
): ParsedDocument[] {
  const docs: ParsedDocument[] = [];
  const seen = new Map<string, number>();
  const levels = layout.levels ?? [];
  const docCols = layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) === 0);
  const colsAt = (lv: number): LayoutColumn[] =>
    layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) === lv + 1);
  let cur: { key: string; doc: ParsedDocument; firstRow: ParsedRow; last: JsonObject[] } | undefined;
  for (const row of rows) {
    const key = layout.documentKey!.map((no) => row.raw[no - 1]).join('|');
    if (!cur || cur.key !== key) {
      if (seen.has(key)) {
        issues.push(
          issue(
            'structure',
            `rows of one document must be consecutive: this key (${key}) was already used by lines ${seen.get(key)}…`,
            where(row.line, layout.documentKey![0]!),
          ),
        );
        continue;
      }
      seen.set(key, row.line);
      const payload: JsonObject = { header: { ...header } };
      for (const c of docCols) {
        const v = row.cells.get(c.no);
        if (v !== undefined) {
          const problem = setSlotPath(payload, c.path!, v);
          if (problem) issues.push(issue('structure', `${c.name} (No.${c.no}): ${problem}`, where(row.line, c.no)));
        }
      }
      cur = { key, doc: { payload, line: row.line, lines: [] }, firstRow: row, last: [] };
      docs.push(cur.doc);
    } else {
      for (const c of docCols) {
        if (row.raw[c.no - 1] !== cur.firstRow.raw[c.no - 1])
          issues.push(
            issue(
              'invariant',
              `${c.name} (No.${c.no}) '${row.raw[c.no - 1]}' differs from line ${cur.firstRow.line} ('${cur.firstRow.raw[c.no - 1]}') of the same document`,
              where(row.line, c.no),
            ),
          );
      }
    }
    cur.doc.lines.push(row.line);
    // nested levels
    let parent: JsonObject = cur.doc.payload;
    let continuing = true;
    for (let lv = 0; lv < levels.length; lv++) {
      const level = levels[lv]!;
      const cols = colsAt(lv);
      const values = cols.map((c) => [c, row.cells.get(c.no)] as const);
      const any = values.some(([, v]) => v !== undefined) || cols.some((c) => row.raw[c.no - 1] !== '');
      const list = (Array.isArray(parent[level.path]) ? parent[level.path] : undefined) as JsonObject[] | undefined;
      const prev = list?.[list.length - 1];
      const keyCol = level.no !== undefined ? cols.find((c) => c.no === level.no) : undefined;
      const keyRaw = keyCol ? row.raw[keyCol.no - 1] : undefined;
      const sameKey =
        keyCol !== undefined &&
        prev !== undefined &&
        continuing &&
        (keyRaw === '' ? !any : String(prev[tail(keyCol.path!)]) === keyRaw);
      if (sameKey) {
        for (const [c, v] of values) {
          if (c === keyCol || v === undefined) continue;
          const was = prev![tail(c.path!)];
          if (was !== v)
            issues.push(
              issue(
                'invariant',
                `${c.name} (No.${c.no}) differs from the first row of ${keyCol!.name} ${String(prev![tail(keyCol!.path!)])}; leave it empty on continuation rows`,
                where(row.line, c.no),
              ),
            );
        }
        parent = prev!;
        continue;
      }
      continuing = false;
      if (!any && keyCol === undefined) {
        issues.push(issue('structure', `the row holds nothing for ${level.path}`, where(row.line, cols[0]?.no ?? 1)));
        break;
      }
      if (!any) {
        // nothing at this level: nothing deeper may be given either
        const deeper = layout.columns.find(
          (c) => c.path !== undefined && levelOf(c.path) > lv + 1 && row.raw[c.no - 1] !== '',
        );
        if (deeper)
          issues.push(
            issue(
              'structure',
              `${deeper.name} (No.${deeper.no}) is given but its ${cols[0]?.name ?? level.path} level is empty`,
              where(row.line, deeper.no),
            ),
          );
        break;
      }
      if (keyCol && keyRaw !== '' && list?.some((e) => String(e[tail(keyCol.path!)]) === keyRaw)) {
        issues.push(
          issue(
            'structure',
            `${keyCol.name} ${keyRaw} appears again after other rows; rows of one ${keyCol.name} must be consecutive`,
            where(row.line, keyCol.no),
          ),
        );
        break;
      }
      const el: JsonObject = {};
      for (const [c, v] of values) if (v !== undefined) el[tail(c.path!)] = v;
      if (!list) parent[level.path] = [el];
      else list.push(el);
      parent = el;
    }
  }
  return docs;
}

/** A document → its rows (cells by column number); continuation rows repeat only the level's number column. */
export function documentToRows(layout: Layout, payload: JsonObject): Map<number, unknown>[] {
  const levels = layout.levels ?? [];
  const docCols = layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) === 0);
  const base = new Map<number, unknown>();
  for (const c of docCols) base.set(c.no, getSlotPath(payload, c.path!));
  const rows: Map<number, unknown>[] = [];
  const walk = (lv: number, el: JsonObject | undefined, list: unknown, row: Map<number, unknown>): void => {
    if (lv >= levels.length || !Array.isArray(list) || list.length === 0) {
      rows.push(row);
      return;
    }
    const level = levels[lv]!;
    const cols = layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) === lv + 1);
    (list as JsonObject[]).forEach((e) => {
      const before = rows.length;
      const first = new Map(row);
      for (const c of cols) first.set(c.no, e[tail(c.path!)]);
      const next = levels[lv + 1];
      walk(lv + 1, e, next ? e[next.path] : undefined, first);
      // rows after the first of this element: only its number column
      for (let k = before + 1; k < rows.length; k++) {
        for (const c of cols) if (c.no !== level.no) rows[k]!.set(c.no, undefined);
      }
    });
    void el;
  };
  walk(0, undefined, levels.length ? payload[levels[0]!.path] : undefined, base);
  return rows;
}

export const rowToFields = (layout: Layout, cells: Map<number, unknown>): OutField[] =>
  layout.columns.map((c) => writeCell(c, cells.get(c.no)));

export { getSlotPath, setSlotPath };
