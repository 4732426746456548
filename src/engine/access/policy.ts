// Who may do what, decided in one place from the forms' own sharing rules (sharing-rules.ts), deny by default:
// a party that no rule names gets nothing. Every path that grants or refuses — REST read, search, create,
// /forms, the care-plan CSV files — asks `decide`; reads are answered by the same row filter that `scope` hands
// to storage for search, so a record is readable one at a time exactly when a search would return it.
// The consent rules (◎, shared only with the user's consent) and relationships slot in as new alternatives of
// `scope`, built from new row-filter atoms (see storage/row-filter.ts).
import { forbidden } from '../../base/outcome.js';
import { PARTY_CODE_SYSTEMS, partyKey, type Party } from '../../base/party.js';
import { allOf, anyOf, eq, matchesRow, type RowFilter } from '../storage/row-filter.js';
import type { FormDefinition } from '../forms/form-definition.js';
import type { AccessTag, ReadScope } from '../storage/store.js';
import { compileSharingRules } from './sharing-rules.js';

export type AccessRequest =
  /**
   * Store a document of `form`. `issuerCode` is the organisation the submission names as its author (the form's
   * issuerCode key, or a care-plan file name's 送信元事業所番号); `issuerNamedBy` says where, for the message.
   */
  | { action: 'submit'; form: string; issuerCode?: string | undefined; issuerNamedBy?: string }
  /**
   * Create a resource outside any form (Patient, Practitioner, Organization). `names` are the identifiers the
   * resource names itself by (an Organization's own identifiers), with where each is: one in a party-code system
   * (医療機関コード, 保険者番号, 介護事業所番号) must be the caller's own.
   */
  | {
      action: 'create-supporting';
      resourceType: string;
      names?: ReadonlyArray<{ system: string; value: string; where: string }>;
    }
  /** See one stored record; `label` (e.g. "DocumentReference/123") names it in the refusal. */
  | { action: 'read'; tag: AccessTag; label?: string }
  /** Search at all (what the search returns is `scope`). */
  | { action: 'search' };

export type Decision = { allowed: true } | { allowed: false; reason: string; expression?: string };

export interface AccessPolicy {
  decide(party: Party, request: AccessRequest): Decision;
  /** `decide`, throwing a 403 OperationOutcome with the decision's reason when refused. */
  enforce(party: Party, request: AccessRequest): void;
  /** The records `party` may read, as a row filter: what `decide` applies to one record, for search in SQL. */
  scope(party: Party): ReadScope;
}

const ALLOW: Decision = { allowed: true };
const deny = (reason: string, expression?: string): Decision =>
  expression === undefined ? { allowed: false, reason } : { allowed: false, reason, expression };

const CODE_SYSTEMS = new Map(PARTY_CODE_SYSTEMS.map((s) => [s.system, s]));

/** The first identifier naming a party other than the caller, as a refusal; undefined when every one is its own. */
function foreignName(
  party: Party,
  names: ReadonlyArray<{ system: string; value: string; where: string }>,
): Decision | undefined {
  for (const n of names) {
    const cs = CODE_SYSTEMS.get(n.system);
    if (!cs) continue;
    if (cs.kinds.includes(party.kind) && cs.of(party.code) === n.value) continue;
    return deny(
      `${n.where} names ${cs.label} ${n.value}, but the client certificate is ${party.kind} ${party.code}: an organisation may only name itself by its own code`,
      n.where,
    );
  }
  return undefined;
}

export function createAccessPolicy(forms: ReadonlyMap<string, FormDefinition>): AccessPolicy {
  const rules = compileSharingRules(forms);

  // ★ its own records always; ○ each form held by its kind, matched on the caller's code where the rule says so.
  const scope = (party: Party): RowFilter =>
    anyOf(
      allOf(eq('author', partyKey(party))),
      ...(rules.holdings.get(party.kind) ?? []).map((h) =>
        h.match === undefined ? allOf(eq('form', h.form)) : allOf(eq('form', h.form), eq(h.match, party.code)),
      ),
    );

  const decide = (party: Party, request: AccessRequest): Decision => {
    switch (request.action) {
      case 'submit': {
        const form = rules.forms.get(request.form);
        if (!form) return deny(`${request.form} is not a form this gateway shares`);
        if (party.kind !== form.author)
          return deny(`a ${party.kind} may not submit a ${form.title}; only a ${form.author} may`);
        // The author named inside the submission must be the organisation the certificate names.
        if (request.issuerCode !== undefined && request.issuerCode !== party.code) {
          const where = request.issuerNamedBy ?? 'the document';
          return deny(`${where} names organisation ${request.issuerCode} but the client certificate is ${party.code}`);
        }
        return ALLOW;
      }
      case 'create-supporting':
        if (!rules.authorKinds.has(party.kind))
          return deny(`a ${party.kind} may not create ${request.resourceType} resources`);
        return foreignName(party, request.names ?? []) ?? ALLOW;
      case 'read':
        return matchesRow(scope(party), request.tag)
          ? ALLOW
          : deny(`${request.label ?? 'the record'} is not shared with ${party.kind} ${party.code}`);
      case 'search':
        // A party no rule names gets 403 rather than an empty result: it is not a participant at all.
        return rules.authorKinds.has(party.kind) || rules.holdings.has(party.kind)
          ? ALLOW
          : deny(`no document is shared with a ${party.kind}`);
    }
  };

  return {
    decide,
    enforce(party, request) {
      const d = decide(party, request);
      if (!d.allowed) throw forbidden(d.reason, d.expression);
    },
    scope,
  };
}
