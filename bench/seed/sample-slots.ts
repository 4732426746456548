// Which values of a sample payload belong to the person, the organisations and the calendar, read from the form's
// own mapping rather than listed per form: the Patient template names the person's fields (insured number, name,
// reading, sex, birth date, address), the Organization templates the insurer's and the issuer's code, name and
// address, the Practitioner template the signing staff member, and the mapping's keys the document id and the key
// date. A value found there is replaced wherever the same string recurs in the sample (a care plan repeats its
// office number in several fields). Every other date of month or day precision moves with the document's month
// shift.
import { readFileSync } from 'node:fs';
import type { FormDefinition } from '../../src/engine/forms/form-definition.js';
import { getPath, isObject, setPath, type Json, type JsonObject } from '../../src/base/json-paths.js';
import { readDate, shiftMonths, writeDate, type DateStyle } from './dates.js';
import { toHiragana, type NamePart } from './names.js';

/** What one generated document puts into a sample's slots. */
export interface SlotValues {
  documentId: string;
  insurerNumber: string;
  insurerName: string;
  /** the organisation code the document names as its author (keys.issuerCode) */
  issuerCode: string;
  issuerName: string;
  issuerAddress: string;
  staff: { family: NamePart; given: NamePart };
  insuredNumber: string;
  family: NamePart;
  given: NamePart;
  sex: '1' | '2';
  birthDate: string;
  address: string;
  /** months every non-birth date of the sample moves by */
  monthShift: number;
  /** the submission instant (Bundle.timestamp, DocumentReference.date) */
  now: string;
}

export type StringSlotKind =
  | 'documentId'
  | 'insurerNumber'
  | 'insurerName'
  | 'issuerCode'
  | 'issuerName'
  | 'issuerAddress'
  | 'staffName'
  | 'insuredNumber'
  | 'personName'
  | 'personKana'
  | 'personAddress';

type Leaf = ReadonlyArray<string | number>;

export interface StringSlot {
  kind: StringSlotKind;
  sample: string;
  leaves: Leaf[];
  /** between family and given name, as the sample writes it (full-width, half-width or none) */
  separator: string;
  hiragana: boolean;
}

export interface DateSlot {
  /** the sample's date (ISO, its own precision) */
  iso: string;
  /** the person's birth date rather than a date that moves with the document */
  birth: boolean;
  occurrences: Array<{ leaf: Leaf; style: DateStyle }>;
}

export interface SamplePlan {
  def: FormDefinition;
  file: string;
  payload: JsonObject;
  strings: StringSlot[];
  dates: DateSlot[];
  sexLeaf: Leaf | undefined;
  /** the date the month shift is measured from: the key date (mapping keys.date), else the first date, as ISO */
  anchorIso: string | undefined;
  documentIdPrefix: string;
}

function leaves(v: unknown, at: Array<string | number> = [], out: Array<{ leaf: Leaf; value: string }> = []) {
  if (typeof v === 'string') out.push({ leaf: at, value: v });
  else if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...at, i], out));
  else if (isObject(v)) for (const [k, x] of Object.entries(v)) leaves(x, [...at, k], out);
  return out;
}

function setLeaf(root: Json, leaf: Leaf, value: string): void {
  let cur = root as Record<string | number, Json>;
  for (const k of leaf.slice(0, -1)) cur = cur[k] as Record<string | number, Json>;
  cur[leaf[leaf.length - 1]!] = value;
}

/** The `$path` a resource template reads at `at` (e.g. ['birthDate'] or ['name', 0, 'text']). */
function pathAt(template: unknown, at: ReadonlyArray<string | number>): string | undefined {
  let cur = template;
  for (const k of at) cur = (cur as Record<string | number, unknown> | undefined)?.[k];
  return isObject(cur) && typeof cur.$path === 'string' ? cur.$path : undefined;
}

function templatesOf(def: FormDefinition, resourceType: string): JsonObject[] {
  return Object.values(def.mapping.resources).filter((r) => r.resourceType === resourceType);
}

/** Primary payload paths of each slot kind, from the mapping. */
function slotPaths(def: FormDefinition): {
  strings: Array<{ kind: StringSlotKind; path: string }>;
  birth: string | undefined;
  sex: string | undefined;
} {
  const { keys } = def.mapping;
  const strings: Array<{ kind: StringSlotKind; path: string }> = [];
  const add = (kind: StringSlotKind, path: string | undefined): void => {
    if (path !== undefined && !strings.some((s) => s.path === path)) strings.push({ kind, path });
  };
  add('documentId', keys.documentId);
  add('insurerNumber', keys.insurerNumber);
  add('insuredNumber', keys.insuredNumber);
  add('issuerCode', keys.issuerCode);
  let birth: string | undefined;
  let sex: string | undefined;
  for (const p of templatesOf(def, 'Patient')) {
    add('insuredNumber', pathAt(p, ['identifier', 0, 'value']));
    const names = Array.isArray(p.name) ? p.name : [];
    names.forEach((n, i) => {
      const rep = isObject(n) && Array.isArray(n.extension) ? (n.extension[0] as JsonObject | undefined) : undefined;
      add(rep?.valueCode === 'SYL' ? 'personKana' : 'personName', pathAt(p, ['name', i, 'text']));
    });
    const addresses = Array.isArray(p.address) ? p.address : [];
    addresses.forEach((_, i) => {
      add('personAddress', pathAt(p, ['address', i, 'text']));
      add('personAddress', pathAt(p, ['address', i, 'line', 0]));
    });
    birth ??= pathAt(p, ['birthDate']);
    sex ??= pathAt(p, ['gender']);
  }
  for (const o of templatesOf(def, 'Organization')) {
    const id = pathAt(o, ['identifier', 0, 'value']);
    if (id === keys.insurerNumber) add('insurerName', pathAt(o, ['name']));
    else if (id === keys.issuerCode) {
      add('issuerName', pathAt(o, ['name']));
      add('issuerAddress', pathAt(o, ['address', 0, 'text']));
    }
  }
  for (const pr of templatesOf(def, 'Practitioner')) add('staffName', pathAt(pr, ['name', 0, 'text']));
  return { strings, birth, sex };
}

const initials = (form: string): string =>
  form
    .split('-')
    .map((w) => (/^[0-9]+$/.test(w) ? w : w[0]!.toUpperCase()))
    .join('');

export function planSample(def: FormDefinition, file: string): SamplePlan {
  const payload = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  const paths = slotPaths(def);
  const docIdPath = def.mapping.keys.documentId;
  const sampleDocId = docIdPath ? getPath(payload, docIdPath) : undefined;
  // Every generated document carries its own id, so its business identifier comes from that id (as a sender's
  // would) rather than from a hash of the payload; a sample without one gets one.
  if (docIdPath && typeof sampleDocId !== 'string') setPath(payload, docIdPath, 'SAMPLE-ID');
  const all = leaves(payload);
  const claimed = new Set<string>();
  const key = (leaf: Leaf): string => JSON.stringify(leaf);

  const strings: StringSlot[] = [];
  for (const { kind, path } of paths.strings) {
    const sample = getPath(payload, path);
    if (typeof sample !== 'string' || sample === '') continue;
    const found = all.filter((l) => l.value === sample && !claimed.has(key(l.leaf))).map((l) => l.leaf);
    if (found.length === 0) continue; // the same value already belongs to an earlier slot (issuer = insurer)
    for (const leaf of found) claimed.add(key(leaf));
    strings.push({
      kind,
      sample,
      leaves: found,
      separator: sample.includes('\u3000') ? '\u3000' : sample.includes(' ') ? ' ' : '',
      hiragana: /[\u3041-\u3096]/.test(sample),
    });
  }

  const birthText = paths.birth ? getPath(payload, paths.birth) : undefined;
  const birthIso = typeof birthText === 'string' ? readDate(birthText)?.iso : undefined;
  const dates = new Map<string, DateSlot>();
  for (const { leaf, value } of all) {
    if (claimed.has(key(leaf))) continue;
    const d = readDate(value);
    if (!d) continue;
    const slot = dates.get(d.iso) ?? { iso: d.iso, birth: d.iso === birthIso, occurrences: [] };
    slot.occurrences.push({ leaf, style: d.style });
    dates.set(d.iso, slot);
  }

  const sexValue = paths.sex ? getPath(payload, paths.sex) : undefined;
  const keyDateText = def.mapping.keys.date ? getPath(payload, def.mapping.keys.date) : undefined;
  return {
    def,
    file,
    payload,
    strings,
    dates: [...dates.values()],
    sexLeaf: typeof sexValue === 'string' && paths.sex ? paths.sex.split('.') : undefined,
    anchorIso:
      (typeof keyDateText === 'string' ? readDate(keyDateText)?.iso : undefined) ??
      [...dates.values()].find((d) => !d.birth)?.iso,
    documentIdPrefix: (typeof sampleDocId === 'string' && /^[A-Z]+[0-9]?/.exec(sampleDocId)?.[0]) || initials(def.name),
  };
}

const fullName = (family: NamePart, given: NamePart, s: StringSlot, reading: boolean): string => {
  const text = reading ? `${family.kana}${s.separator}${given.kana}` : `${family.kanji}${s.separator}${given.kanji}`;
  return reading && s.hiragana ? toHiragana(text) : text;
};

export function stringSlotText(s: StringSlot, v: SlotValues): string {
  switch (s.kind) {
    case 'documentId':
      return v.documentId;
    case 'insurerNumber':
      return v.insurerNumber;
    case 'insurerName':
      return v.insurerName;
    case 'issuerCode':
      return v.issuerCode;
    case 'issuerName':
      return v.issuerName;
    case 'issuerAddress':
      return v.issuerAddress;
    case 'staffName':
      return fullName(v.staff.family, v.staff.given, s, false);
    case 'insuredNumber':
      return v.insuredNumber;
    case 'personName':
      return fullName(v.family, v.given, s, false);
    case 'personKana':
      return fullName(v.family, v.given, s, true);
    case 'personAddress':
      return v.address;
  }
}

/** The slot's date for these values, at the sample's precision. */
export const dateSlotIso = (d: DateSlot, v: SlotValues): string =>
  d.birth ? v.birthDate.slice(0, d.iso.length) : shiftMonths(d.iso, v.monthShift);

/** The sample with these values in its slots: the care-form payload a sender would POST. */
export function renderPayload(plan: SamplePlan, v: SlotValues): JsonObject {
  const out = structuredClone(plan.payload);
  for (const s of plan.strings) {
    const text = stringSlotText(s, v);
    for (const leaf of s.leaves) setLeaf(out, leaf, text);
  }
  for (const d of plan.dates) {
    const iso = dateSlotIso(d, v);
    for (const o of d.occurrences) setLeaf(out, o.leaf, writeDate(iso, o.style));
  }
  if (plan.sexLeaf) setLeaf(out, plan.sexLeaf, v.sex);
  return out;
}
