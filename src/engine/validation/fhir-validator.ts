// One entry point for FHIR validation: R4 base spec (base-validator.ts, compiled ahead of time) + our differential
// profiles + Questionnaire rules.
// Everything returns the full list of issues; callers fail once with `throwIfErrors` (src/fhir/outcome.ts).
import type { Questionnaire, QuestionnaireResponse } from 'fhir/r4.js';
import { issue, type Issue } from '../../base/outcome.js';
import { loadBaseDefinitions, validateBase } from './base-validator.js';
import { createProfileValidator, loadProfilesDir } from './profile-validator.js';
import { validateAgainstQuestionnaire } from './questionnaire-response-validator.js';

export interface FhirValidator {
  /** Base + profiles (meta.profile and `opts.profile`); for a Bundle, each entry's meta.profile too. */
  validate(resource: unknown, opts?: { profile?: string }): Issue[];
  /** Base + profiles + the rules of the Questionnaire named by `qr.questionnaire` (url or url|version). */
  validateQuestionnaireResponse(qr: unknown, opts?: { profile?: string }): Issue[];
  /** Profiles + Questionnaire rules only (no R4 base pass), for a QR already base-validated inside its Bundle. */
  validateAnswers(qr: unknown, opts?: { profile?: string }): Issue[];
  /** Problems found while loading the profiles directory (warnings: e.g. a binding that cannot be expanded). */
  readonly loadIssues: readonly Issue[];
}

export interface FhirValidatorOptions {
  /** Directory (or directories, read in order) of StructureDefinition/ValueSet/CodeSystem/Questionnaire JSON. */
  profilesDir: string | readonly string[];
}

export async function createFhirValidator(options: FhirValidatorOptions): Promise<FhirValidator> {
  const dirs = typeof options.profilesDir === 'string' ? [options.profilesDir] : options.profilesDir;
  const resources = (await Promise.all(dirs.map((d) => loadProfilesDir(d)))).flat();
  const profiles = createProfileValidator(resources);
  const questionnaires = resources.filter(
    (r): r is Questionnaire => (r as { resourceType?: unknown }).resourceType === 'Questionnaire',
  );
  loadBaseDefinitions(); // load the compiled R4 validator at startup (≈0.2 s from its cache), not on the first request

  const validate = (resource: unknown, opts?: { profile?: string }): Issue[] => {
    const out = validateBase(resource);
    out.push(...profiles.validate(resource, opts));
    const r = resource as { resourceType?: unknown; entry?: unknown } | null;
    if (r?.resourceType === 'Bundle' && Array.isArray(r.entry)) {
      // validateBase already checked the entries (each with its own root invariants); profiles apply per entry here.
      r.entry.forEach((e: unknown, i: number) => {
        const res = (e as { resource?: { resourceType?: unknown } } | null)?.resource;
        if (typeof res !== 'object' || res === null || typeof res.resourceType !== 'string') return;
        const prefix = `Bundle.entry[${i}].resource`;
        const rt = res.resourceType;
        for (const x of profiles.validate(res)) out.push(rebase(x, rt, prefix));
      });
    }
    return out;
  };

  const findQuestionnaire = (ref: string): Questionnaire | undefined => {
    const [url, version] = ref.split('|');
    const candidates = questionnaires.filter((q) => q.url === url);
    return version === undefined ? candidates[0] : candidates.find((q) => q.version === version);
  };

  // The Questionnaire's rules (and profiles), without the R4 base pass: for a QR already base-validated as an
  // entry of its document Bundle. Base validation of the QR is already part of its Bundle's, so it runs once.
  const validateAnswers = (qr: unknown, opts?: { profile?: string }): Issue[] =>
    answers(profiles.validate(qr, opts), qr);
  const answers = (out: Issue[], qr: unknown): Issue[] => {
    const r = qr as QuestionnaireResponse | null;
    if (r?.resourceType !== 'QuestionnaireResponse') {
      out.push(issue('invalid', 'Expected a QuestionnaireResponse', 'resourceType'));
      return out;
    }
    const ref = r.questionnaire;
    const q = typeof ref === 'string' ? findQuestionnaire(ref) : undefined;
    if (!q) {
      out.push(issue('not-found', `Unknown Questionnaire ${String(ref)}`, 'QuestionnaireResponse.questionnaire'));
      return out;
    }
    out.push(...validateAgainstQuestionnaire(r, q));
    return out;
  };

  return {
    loadIssues: profiles.loadIssues,
    validate,
    validateQuestionnaireResponse: (qr, opts) => answers(validate(qr, opts), qr),
    validateAnswers,
  };
}

/** `DocumentReference.status` → `Bundle.entry[2].resource.status` */
function rebase(x: Issue, resourceType: string, prefix: string): Issue {
  const e = x.expression;
  if (e === undefined || (e !== resourceType && !e.startsWith(`${resourceType}.`))) return x;
  return { ...x, expression: prefix + e.slice(resourceType.length) };
}
