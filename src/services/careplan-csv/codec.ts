// CSV records ⇄ care-form payloads, driven only by the layout data (mappings/careplan-csv/*.json).
import { issue, type Issue } from '../../base/outcome.js';
import { isObject, type Json, type JsonObject } from '../../base/json-paths.js';
import { validDate, validMonth } from './file-name.js';
import { CSV_VERSION, levelOf, type Layout, type LayoutColumn } from './layout.js';
import type { CsvRecord, OutField } from './sjis-csv.js';

export type Where = (line: number, column: number) => string;

const patterns = new WeakMap<LayoutColumn, RegExp>();
function patternOf(col: LayoutColumn): RegExp {
  let re = patterns.get(col);
  if (!re) patterns.set(col, (re = new RegExp(col.pattern!)));
  return re;
}

/** Why a non-empty cell is refused ('invalid' unless said otherwise); undefined when it is fine. */
function refusal(col: LayoutColumn, text: string): { code: 'invalid' | 'code-invalid'; why: string } | undefined {
  const bad = { code: 'invalid' as const, why: '' };
  if (col.length !== null && col.format !== 'integer' && text.length > col.length)
    return { ...bad, why: `longer than ${col.length}` };
  switch (col.format) {
    case 'version':
      return text === (col.fixed ?? CSV_VERSION)
        ? undefined
        : { code: 'code-invalid', why: `only CSVバージョン ${col.fixed ?? CSV_VERSION} is supported` };
    case 'digits':
      if (!/^[0-9]+$/.test(text)) return { ...bad, why: 'must be digits' };
      if (col.exactLength && col.length !== null && text.length !== col.length)
        return { ...bad, why: `must be ${col.length} digits` };
      return undefined;
    case 'insured':
      return /^([0-9]{10}|H[0-9]{9})$/.test(text)
        ? undefined
        : { ...bad, why: 'must be 10 digits, or H and 9 digits (生活保護単独)' };
    case 'yyyymmdd':
      return validDate(text) ? undefined : { ...bad, why: 'not a date (YYYYMMDD)' };
    case 'yyyymm':
      return validMonth(text) ? undefined : { ...bad, why: 'not a month (YYYYMM)' };
    case 'hhmm':
      if (col.allow?.includes(text) || /^(([01][0-9]|2[0-3])[0-5][0-9]|2400)$/.test(text)) return undefined;
      return { ...bad, why: `not a time (HHMM${col.allow ? ` or ${col.allow.join('/')}` : ''})` };
    case 'integer':
      if (!/^-?(0|[1-9][0-9]*)$/.test(text)) return { ...bad, why: 'not an integer (no leading zeros, no separators)' };
      if (col.length !== null && text.replace('-', '').length > col.length)
        return { ...bad, why: `more than ${col.length} digits` };
      return undefined;
    case 'code':
      return col.codes?.includes(text) ? undefined : { code: 'code-invalid', why: '' };
    case 'free-text':
      return undefined;
    case 'string':
      return col.pattern && !patternOf(col).test(text) ? { ...bad, why: `does not match ${col.pattern}` } : undefined;
  }
}

/**
 * One cell → payload value; undefined for an empty cell. Problems go to `issues` at `where(line, col.no)`, which
 * is only asked for a problem (a file has tens of thousands of cells). No closure is made per cell: under tsx each
 * named one costs an Object.defineProperty (esbuild's keepNames), most of reading a row.
 */
export function readCell(
  col: LayoutColumn,
  text: string,
  where: Where,
  line: number,
  issues: Issue[],
  required = col.required,
): Json | undefined {
  if (text === '') {
    if (required) issues.push(issue('required', `${col.name} (No.${col.no}) is required`, where(line, col.no)));
    return undefined;
  }
  const no = refusal(col, text);
  if (no) {
    const message =
      col.format === 'code' && no.code === 'code-invalid'
        ? `${col.name} (No.${col.no}) '${text}' is not one of ${col.codes?.join(', ')}`
        : `${col.name} (No.${col.no}) '${text}': ${no.why}`;
    issues.push(issue(no.code, message, where(line, col.no)));
    return undefined;
  }
  switch (col.format) {
    case 'yyyymmdd':
      return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6)}`;
    case 'yyyymm':
      return `${text.slice(0, 4)}-${text.slice(4)}`;
    case 'integer':
      return Number(text);
    default:
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
    for (let k = 0; k < layout.columns.length; k++) {
      const col = layout.columns[k]!;
      const f = rec.fields[k]!;
      if (col.link !== undefined && f.text === col.zero) cells.set(col.no, undefined);
      else cells.set(col.no, readCell(col, f.text, where, f.line, issues, col.link === undefined && col.required));
    }
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
  // The columns of each level, and those below it, worked out once rather than for every row.
  const levelCols = levels.map((_, lv) =>
    layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) === lv + 1),
  );
  const deeperCols = levels.map((_, lv) =>
    layout.columns.filter((c) => c.path !== undefined && levelOf(c.path) > lv + 1),
  );
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
      const cols = levelCols[lv]!;
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
        const deeper = deeperCols[lv]!.find((c) => row.raw[c.no - 1] !== '');
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
