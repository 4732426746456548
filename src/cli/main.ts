// kaigo-gateway CLI: serve | translate | validate | pki init.
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { createGatewayContext } from '../app.js';
import { configFromEnv } from '../config.js';
import { OperationOutcomeError } from '../fhir/outcome.js';
import { initDevPki } from '../pki/dev-pki.js';
import type { Store } from '../storage/store.js';
import { VERSION } from '../router.js';
import { readJsonFile, translateToFhir, translateToForm, validateInput } from './translate.js';
import { expandInputs, summary, terminalProgress, translateFiles } from './translate-folder.js';

const toPort = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
};

/** The CLI's translate/validate need the profiles and validators but no database. */
const noStore: Store = {
  kind: 'none',
  read: async () => undefined,
  findByIdentifier: async () => [],
  transaction: async () => {
    throw new Error('no store in the CLI');
  },
  search: async () => ({ total: 0, records: [] }),
  ping: async () => undefined,
  close: async () => undefined,
};

function printOutcome(e: OperationOutcomeError): void {
  process.stderr.write(`${JSON.stringify(e.outcome, null, 2)}\n`);
}

const program = new Command();
program.name('kaigo-gateway').description('介護情報基盤 interoperability gateway: care forms ⇄ FHIR R4 over mutual TLS').version(VERSION);

program
  .command('serve')
  .description('run the gateway (HTTPS, mutual TLS 1.3)')
  .option('--port <port>', 'listen port (KAIGO_PORT, default 8443)', toPort)
  .option('--host <host>', 'listen address (KAIGO_HOST, default 127.0.0.1)')
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .option('--pki-dir <dir>', 'PKI directory with ca.crt, server.crt, server.key (KAIGO_PKI_DIR; default: a development PKI in <data-dir>/pki)')
  .action(async (o: { port?: number; host?: string; dataDir?: string; pkiDir?: string }) => {
    const cfg = configFromEnv(process.env, { ...(o.port !== undefined ? { port: o.port } : {}), ...(o.host ? { host: o.host } : {}), ...(o.dataDir ? { dataDir: o.dataDir } : {}), ...(o.pkiDir ? { pkiDir: o.pkiDir } : {}) });
    // Loaded here so translate/validate don't pay for the HTTP stack.
    const { startGateway } = await import('../http/server.js');
    const gw = await startGateway(cfg);
    process.stderr.write(`kaigo-gateway ${VERSION} listening on ${gw.url}\n  data: ${cfg.dataDir}\n  PKI:  ${gw.pkiDir} (ca.crt, server.*, hospital.*, municipality.*, care-office.*)\n`);
    const stop = (): void => void gw.shutdown().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('translate')
  .description('translate care-form payloads to FHIR document Bundles, or QuestionnaireResponses/documents back to the form; give files or folders')
  .requiredOption('--form <name>', 'form name, e.g. shujii-ikensho')
  .requiredOption('--to <fhir|form>', 'direction')
  .option('--out <path>', 'one input: write this file instead of standard output; several inputs or a folder: write into this folder')
  .argument('<paths...>')
  .action(async (paths: string[], o: { form: string; to: string; out?: string }) => {
    const ctx = await createGatewayContext(noStore);
    const def = ctx.forms.get(o.form);
    if (!def) throw new InvalidArgumentError(`no form named ${o.form}`);
    if (o.to !== 'fhir' && o.to !== 'form') throw new InvalidArgumentError('--to must be fhir or form');
    const files = expandInputs(paths);
    if (files.length === 1 && paths.length === 1 && files[0] === paths[0]) {
      const input = readJsonFile(files[0]!);
      const out = o.to === 'fhir' ? translateToFhir(ctx, def, input) : translateToForm(ctx, def, input);
      const text = `${JSON.stringify(out, null, 2)}\n`;
      if (o.out) writeFileSync(o.out, text);
      else process.stdout.write(text);
      return;
    }
    if (!o.out) throw new InvalidArgumentError('several inputs: say where to write them with --out DIR');
    const result = translateFiles(ctx, def, o.to, files, o.out, terminalProgress());
    process.stderr.write(summary(result));
    if (result.failed.length > 0) process.exitCode = 1;
  });

program
  .command('validate')
  .description('validate a FHIR resource or a care-form payload; prints an OperationOutcome')
  .option('--form <name>', 'form of a care-form payload (needed when several forms exist)')
  .argument('<file>')
  .action(async (file: string, o: { form?: string }) => {
    const ctx = await createGatewayContext(noStore);
    const { kind, issues } = validateInput(ctx, readJsonFile(file), o.form);
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) {
      printOutcome(new OperationOutcomeError(422, issues));
      process.stderr.write(`${file}: ${kind}: ${errors.length} problem(s)\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${file}: valid ${kind}\n`);
  });

const pki = program.command('pki').description('development PKI');
pki
  .command('init')
  .description('create a development CA and server/hospital/municipality/care-office certificates (PEM)')
  .requiredOption('--dir <dir>', 'where to write them')
  .option('--force', 'replace existing files')
  .action(async (o: { dir: string; force?: boolean }) => {
    const files = await initDevPki(o.dir, { force: o.force === true });
    process.stdout.write(`PKI in ${files.dir}: ${files.written.length ? `wrote ${files.written.join(', ')}` : 'all files already present'}\n`);
  });

program.parseAsync().catch((e: unknown) => {
  if (e instanceof OperationOutcomeError) {
    printOutcome(e);
    process.exitCode = 2;
  } else {
    process.stderr.write(`kaigo-gateway: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
});
