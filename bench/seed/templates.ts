// Cloning real documents instead of translating each one. Translate+validate costs 10–20 ms per document, too slow
// for a million, so each (form, sample, sex) is run once through the real path (prepareDocument: policy,
// formToFhir, validation) with marker values in its slots — values that occur nowhere else in the output — and
// every document of that kind is then that output with the markers replaced by its own values, the resource ids
// re-derived from its business identifier (documentResourceId), and the DocumentReference's size and SHA-1
// recomputed over its canonical Bundle bytes. A template is checked before it is used: the first document that
// needs it is also run through the real path and must come out identical, byte for byte, to its clone.
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { DocumentReference } from 'fhir/r4.js';
import type { Party } from '../../src/base/party.js';
import { documentBytes, documentResourceId, type FormDocument } from '../../src/engine/forms/assemble-document.js';
import { isMultiResource } from '../../src/engine/forms/template.js';
import type { GatewayContext } from '../../src/engine/gateway-context.js';
import { prepareDocument } from '../../src/services/documents/submit-document.js';
import { shiftMonths, writeDate } from './dates.js';
import type { DocumentInput } from './documents.js';
import { withCheckDigit } from './identifiers.js';
import { dateSlotIso, renderPayload, stringSlotText, type SamplePlan, type SlotValues } from './sample-slots.js';

// Marker dates are the sample's dates 68 years on: a multiple of four years inside 1901–2099 keeps every
// 29 February, month length and ordering, and lands after any real date in a sample (the latest are in 2028).
const MARKER_SHIFT = 68 * 12;

function markerValues(plan: SamplePlan, party: Party['kind'], sex: '1' | '2'): SlotValues {
  const insurer = withCheckDigit('97531');
  const insured = '8080808080';
  const birth = plan.dates.find((d) => d.birth);
  return {
    documentId: 'ZQSEEDDOCIDQZ',
    insurerNumber: insurer,
    insurerName: '試験保険者名甲',
    issuerCode:
      party === 'municipality'
        ? insurer
        : party === 'user'
          ? insured
          : withCheckDigit(party === 'medical-institution' ? '991000000' : '992700000'),
    issuerName: '試験発行機関名乙',
    issuerAddress: '試験都試験区試験通壱番',
    staff: { family: { kanji: '驫麣', kana: 'ヵヶ' }, given: { kanji: '齉龖', kana: 'ヮヂ' } },
    insuredNumber: insured,
    family: { kanji: '鑫犇', kana: 'ヰヱ' },
    given: { kanji: '龘麤', kana: 'ヲヴ' },
    sex,
    birthDate: birth ? shiftMonths(birth.iso, MARKER_SHIFT) : '2001-01-01',
    address: '試験県試験市試験町零丁目',
    monthShift: MARKER_SHIFT,
    now: '2099-01-02T03:04:05.678+09:00',
  };
}

interface Compiled {
  literals: string[];
  slots: number[];
}

const regexEscape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function materialize(c: Compiled, values: readonly string[]): string {
  let s = c.literals[0]!;
  for (let i = 0; i < c.slots.length; i++) s += values[c.slots[i]!]! + c.literals[i + 1]!;
  return s;
}

/** The parts of a FormDocument that are JSON (questionnaireResponse is resources[0]). */
type DocumentParts = Pick<FormDocument, 'keys' | 'identifier' | 'bundle' | 'documentReference' | 'resources'>;

const partsOf = (d: FormDocument): DocumentParts => ({
  keys: d.keys,
  identifier: d.identifier,
  bundle: d.bundle,
  documentReference: d.documentReference,
  resources: d.resources,
});

export const partyFor = (kind: Party['kind'], v: SlotValues): Party => ({
  kind,
  code: v.issuerCode,
  name: v.issuerName,
});

/** The real path for one input: what POST /forms/{form} would store, minus the write. */
export function translateReal(ctx: GatewayContext, input: DocumentInput): FormDocument {
  const payload = renderPayload(input.plan, input.values);
  return prepareDocument({ ...ctx, clock: () => input.values.now }, input.party, input.def, payload);
}

export class DocumentTemplate {
  private readonly makers: Array<(v: SlotValues) => string> = [];
  private readonly aliases: string[];
  private readonly identifier: Compiled;
  private readonly text: Compiled;
  private readonly canonical: Compiled;

  constructor(
    ctx: GatewayContext,
    readonly plan: SamplePlan,
    readonly sex: '1' | '2',
  ) {
    const def = plan.def;
    const kind = def.mapping.sharing.author;
    const marker = markerValues(plan, kind, sex);
    const doc = prepareDocument(
      { ...ctx, clock: () => marker.now },
      partyFor(kind, marker),
      def,
      renderPayload(plan, marker),
    );

    // What replaces what: every slot's text as the marker values write it, every way a date slot is written
    // (the ISO the engine emits and each style the payload uses), the submission instant, and the resource ids.
    const olds: string[] = [];
    const add = (old: string, make: (v: SlotValues) => string): void => {
      if (olds.includes(old)) return; // the issuer is the insurer on a municipality's forms
      olds.push(old);
      this.makers.push(make);
    };
    for (const s of plan.strings) add(stringSlotText(s, marker), (v) => stringSlotText(s, v));
    for (const d of plan.dates) {
      const styles = [{ kind: 'iso' } as const, ...d.occurrences.map((o) => o.style)];
      for (const style of styles)
        add(writeDate(dateSlotIso(d, marker), style), (v) => writeDate(dateSlotIso(d, v), style));
    }
    add(marker.issuerCode, (v) => v.issuerCode);
    add(marker.now, (v) => v.now);

    const single = Object.keys(def.mapping.resources).filter((a) => !isMultiResource(def.mapping.resources[a]!));
    const multi = Object.keys(def.mapping.resources).filter((a) => isMultiResource(def.mapping.resources[a]!));
    const ids = new Set([doc.bundle, doc.documentReference, ...doc.resources].map((r) => r.id));
    const aliases = ['questionnaireResponse', 'composition', 'bundle', 'documentReference', ...single];
    for (const a of multi)
      for (let i = 0; ids.has(documentResourceId(doc.identifier.value!, `${a}/${i}`)); i++) aliases.push(`${a}/${i}`);
    this.aliases = aliases;
    const idOlds = aliases.map((a) => documentResourceId(doc.identifier.value!, a));

    // Longest first, so a date of day precision wins over the same month written alone.
    const all = [...olds, ...idOlds];
    const index = new Map(all.map((s, i) => [s, i]));
    const re = new RegExp(
      [...all]
        .sort((a, b) => b.length - a.length)
        .map(regexEscape)
        .join('|'),
      'g',
    );
    const compile = (text: string): Compiled => {
      const literals: string[] = [];
      const slots: number[] = [];
      let last = 0;
      for (const m of text.matchAll(re)) {
        literals.push(text.slice(last, m.index));
        slots.push(index.get(m[0])!);
        last = m.index + m[0].length;
      }
      literals.push(text.slice(last));
      return { literals, slots };
    };
    const identifier = compile(doc.identifier.value!);
    if (identifier.slots.some((s) => s >= olds.length)) throw new Error('a business identifier holds a resource id');
    this.identifier = identifier;
    this.text = compile(JSON.stringify(partsOf(doc)));
    this.canonical = compile(documentBytes(doc.bundle).toString('utf8'));
  }

  clone(v: SlotValues): FormDocument {
    const values = this.makers.map((make) => {
      const s = make(v);
      // Values go into JSON text as they are: they must need no escaping.
      if (JSON.stringify(s).length !== s.length + 2) throw new Error(`a generated value needs JSON escaping: ${s}`);
      return s;
    });
    const identifier = materialize(this.identifier, values);
    for (const a of this.aliases) values.push(documentResourceId(identifier, a));
    const parts = JSON.parse(materialize(this.text, values)) as DocumentParts;
    const canonical = materialize(this.canonical, values);
    const attachment = (parts.documentReference as DocumentReference).content[0]!.attachment;
    attachment.size = Buffer.byteLength(canonical, 'utf8');
    attachment.hash = createHash('sha1').update(canonical, 'utf8').digest('base64');
    return {
      form: this.plan.def.name,
      ...parts,
      questionnaireResponse: parts.resources[0] as FormDocument['questionnaireResponse'],
    };
  }
}

/** The first difference between two JSON values, as a path and the two values (for error messages). */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (JSON.stringify(a) === JSON.stringify(b)) return undefined;
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return `${path}: key order differs`;
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 200)} ≠ ${JSON.stringify(b)?.slice(0, 200)}`;
}

/** Templates by (form, sample, sex), built on first use and checked against the real path on that use. */
export class TemplateCache {
  private readonly templates = new Map<string, DocumentTemplate>();
  /** milliseconds spent in the real engine (building and checking templates) */
  realMs = 0;

  constructor(private readonly ctx: GatewayContext) {}

  get size(): number {
    return this.templates.size;
  }

  /** The document for an input: its clone, checked against the real path when it is the template's first use. */
  document(input: DocumentInput): FormDocument {
    const sex = input.plan.sexLeaf ? input.values.sex : '2';
    const key = `${input.def.name}/${basename(input.plan.file)}/${sex === '1' ? 'male' : 'female'}`;
    let t = this.templates.get(key);
    if (t) return t.clone(input.values);
    const t0 = performance.now();
    t = new DocumentTemplate(this.ctx, input.plan, sex);
    const real = translateReal(this.ctx, input);
    const cloned = t.clone(input.values);
    this.realMs += performance.now() - t0;
    const diff = firstDifference(partsOf(cloned), partsOf(real));
    if (diff) throw new Error(`the clone of ${key} differs from the real translation at ${diff}`);
    this.templates.set(key, t);
    return cloned;
  }
}
