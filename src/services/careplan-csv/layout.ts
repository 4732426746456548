// ケアプランデータ連携標準仕様 v4.1 (CSVバージョン 202407): the record layouts are data
// (mappings/careplan-csv/<TYPE>.json, one entry per column); this module loads them and describes their shape.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../base/project.js';

export type ColumnFormat =
  'version' | 'digits' | 'insured' | 'yyyymmdd' | 'yyyymm' | 'hhmm' | 'integer' | 'code' | 'free-text' | 'string';

export interface LayoutColumn {
  no: number;
  name: string;
  /** payload path: "header.x" (one per document), "issues[].goals[].x" (per row group), "a.b[3].c" (numbered slot) */
  path?: string;
  /** delete records: the payload path of the stored documents this column must equal */
  match?: string;
  /** UPHOSOKU: which parent key this column carries; `zero` is written when the other parent is meant */
  link?: 'planDate' | 'targetMonth';
  zero?: string;
  length: number | null;
  required: boolean;
  format: ColumnFormat;
  fixed?: string;
  exactLength?: boolean;
  pattern?: string;
  allow?: string[];
  codes?: string[];
  codeSystem?: string;
}

export interface Layout {
  type: string;
  title: string;
  /** what the file name carries after the type: nothing, 対象年月, or 対象年月 / 000000 (UPHOSOKU) */
  fileNameMonth: 'none' | 'target-month' | 'target-month-or-zero';
  kind: 'document' | 'supplement' | 'delete';
  /** processing order within one time stamp (§2.5: the main table first, the deletions last) */
  order: number;
  /** the send units the file belongs to: `plan` (① 第1–3表 + 補足) and/or `month` (② 第6・7表 + 補足); deletions are units of their own */
  sendUnits?: Array<'plan' | 'month'>;
  /** document: the form each document is; rows with equal documentKey columns are one document */
  form?: string;
  documentKey?: number[];
  /** document: the repeating levels, outermost first; `no` = the column numbering elements of that level */
  levels?: Array<{ path: string; no?: number }>;
  /** the column that must equal the file name's 対象年月 */
  fileMonthColumn?: number;
  /** supplement: the payload group it fills and the parent form per link column */
  group?: string;
  parents?: Record<'planDate' | 'targetMonth', { form: string; path: string }>;
  /** delete: forms whose documents with the matching key are deleted */
  cascade?: string[];
  columns: LayoutColumn[];
}

export const CSV_VERSION = '202407';

export function loadLayouts(root = PROJECT_ROOT): Map<string, Layout> {
  const dir = join(root, 'mappings', 'careplan-csv');
  const out = new Map<string, Layout>();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const l = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Layout;
    l.columns.forEach((c, i) => {
      if (c.no !== i + 1) throw new Error(`mappings/careplan-csv/${f}: column ${i + 1} is numbered ${c.no}`);
    });
    out.set(l.type, l);
  }
  return out;
}

/** Number of repeating levels a column path lies under ("issues[].goals[].no" → 2). */
export const levelOf = (path: string): number => path.split('[]').length - 1;
