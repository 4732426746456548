// `translate` over a folder (or several files): every file is tried, the good ones are written, a progress bar
// shows on a terminal, a summary names each failure, and the exit code says whether any file failed.
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { OperationOutcomeError, type Issue } from '../../base/outcome.js';
import type { FormDefinition } from '../../engine/forms/form-definition.js';
import type { GatewayContext } from '../../engine/gateway-context.js';
import { readJsonFile, translateToFhir, translateToForm } from './translate.js';

export interface FolderResult {
  ok: string[];
  failed: Array<{ file: string; issues: readonly Issue[] | string }>;
}

/** Inputs: files as given, folders expanded to their *.json files (sorted, not recursive). */
export function expandInputs(paths: readonly string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.toLowerCase().endsWith('.json'))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
}

export function translateFiles(
  ctx: GatewayContext,
  def: FormDefinition,
  to: 'fhir' | 'form',
  files: readonly string[],
  outDir: string,
  progress: { start(total: number): void; tick(): void; stop(): void },
): FolderResult {
  mkdirSync(outDir, { recursive: true });
  const result: FolderResult = { ok: [], failed: [] };
  progress.start(files.length);
  for (const file of files) {
    try {
      const input = readJsonFile(file);
      const out = to === 'fhir' ? translateToFhir(ctx, def, input) : translateToForm(ctx, def, input);
      const target = join(outDir, basename(file).replace(/\.json$/i, to === 'fhir' ? '.bundle.json' : '.form.json'));
      writeFileSync(target, `${JSON.stringify(out, null, 2)}\n`);
      result.ok.push(file);
    } catch (e) {
      result.failed.push({ file, issues: e instanceof OperationOutcomeError ? e.issues : (e as Error).message });
    }
    progress.tick();
  }
  progress.stop();
  return result;
}

/** A cli-progress bar on a terminal; nothing when stderr is not one (CI logs stay clean). */
export function terminalProgress(): { start(total: number): void; tick(): void; stop(): void } {
  if (!process.stderr.isTTY) return { start() {}, tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'translate [{bar}] {value}/{total} files' },
    cliProgress.Presets.shades_classic,
  );
  return { start: (t) => bar.start(t, 0), tick: () => bar.increment(), stop: () => bar.stop() };
}

export function summary(r: FolderResult): string {
  const lines = [`${r.ok.length} translated, ${r.failed.length} failed`];
  for (const f of r.failed) {
    const why =
      typeof f.issues === 'string'
        ? f.issues
        : f.issues.map((i) => (i.expression ? `${i.expression}: ${i.diagnostics}` : i.diagnostics)).join('; ');
    lines.push(`  ✗ ${f.file}: ${why}`);
  }
  return `${lines.join('\n')}\n`;
}
