// `npm run profiles:build`: regenerate profiles/schemas/<form>.schema.json from the Questionnaires and mappings.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { payloadSchemaFor } from './payload-schema.js';
import { loadCodeMaps, loadFormDefinitionSansSchema, loadQuestionnaires, mappingFiles } from './registry.js';
import { PROJECT_ROOT } from '../../base/project.js';

export function buildSchemas(root = PROJECT_ROOT): Map<string, string> {
  const questionnaires = loadQuestionnaires(join(root, 'profiles'));
  const codeMaps = loadCodeMaps(root);
  const out = new Map<string, string>();
  for (const file of mappingFiles(root)) {
    const def = loadFormDefinitionSansSchema(root, file, questionnaires, codeMaps);
    out.set(
      join(root, 'profiles', 'schemas', `${def.name}.schema.json`),
      `${JSON.stringify(payloadSchemaFor(def), null, 2)}\n`,
    );
  }
  return out;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  for (const [file, text] of buildSchemas()) {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${file}`);
  }
}
