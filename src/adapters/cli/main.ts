// kaigo-gateway CLI: serve | translate | validate | careplan-csv | pki | backup | restore.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createGatewayContext } from '../../engine/gateway-context.js';
import { configFromEnv, databaseFile, type GatewayConfig } from '../config.js';
import { OperationOutcomeError } from '../../base/outcome.js';
import { initDevPki } from '../../engine/pki/dev-pki.js';
import { backupSqlite, restoreSqlite } from '../../engine/storage/sqlite-backup.js';
import { SqliteStore } from '../../engine/storage/sqlite-store.js';
import type { Store } from '../../engine/storage/store.js';
import { PROJECT_ROOT, VERSION } from '../../base/project.js';
import { setTimeOffset } from '../../base/clock.js';
import { readJsonFile, translateToFhir, translateToForm, validateInput } from './translate.js';
import { expandInputs, summary, terminalProgress, translateFiles } from './translate-folder.js';

const toPort = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('not a port number');
  return n;
};

const toWorkers = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new InvalidArgumentError('a whole number from 0 to 64');
  return n;
};

/** translate/validate store nothing: an in-memory store stands in for the database. */
const scratchContext = (): ReturnType<typeof createGatewayContext> => createGatewayContext(new SqliteStore(':memory:'));

function printOutcome(e: OperationOutcomeError): void {
  process.stderr.write(`${JSON.stringify(e.outcome, null, 2)}\n`);
}

const program = new Command();
program
  .name('kaigo-gateway')
  .description('介護情報基盤 interoperability gateway: care forms ⇄ FHIR R4 over mutual TLS')
  .version(VERSION)
  // Every command that writes (serve, careplan-csv import, translate) writes instants in KAIGO_TIME_OFFSET.
  .hook('preAction', () => setTimeOffset(configFromEnv(process.env).timeOffset));

program
  .command('serve')
  .description('run the gateway (HTTPS, mutual TLS 1.3)')
  .option('--port <port>', 'listen port (KAIGO_PORT, default 8443)', toPort)
  .option('--host <host>', 'listen address (KAIGO_HOST, default 127.0.0.1)')
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .option(
    '--pki-dir <dir>',
    'PKI directory with ca.crt, server.crt, server.key (KAIGO_PKI_DIR; default: a development PKI in <data-dir>/pki)',
  )
  .action(async (o: { port?: number; host?: string; dataDir?: string; pkiDir?: string }) => {
    const cfg = configFromEnv(process.env, {
      ...(o.port !== undefined ? { port: o.port } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.dataDir ? { dataDir: o.dataDir } : {}),
      ...(o.pkiDir ? { pkiDir: o.pkiDir } : {}),
    });
    // Loaded here so translate/validate don't pay for the HTTP stack.
    const { startGateway } = await import('../http/server.js');
    const gw = await startGateway(cfg);
    process.stderr.write(
      `kaigo-gateway ${VERSION} listening on ${gw.url}\n  data: ${cfg.dataDir}\n  PKI:  ${gw.pkiDir} (ca.crt, server.*, hospital.*, municipality.*, care-office.*)\n`,
    );
    const stop = (): void => void gw.shutdown().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });

program
  .command('translate')
  .description(
    'translate care-form payloads to FHIR document Bundles, or QuestionnaireResponses/documents back to the form; give files or folders',
  )
  .requiredOption('--form <name>', 'form name, e.g. shujii-ikensho')
  .requiredOption('--to <fhir|form>', 'direction')
  .option(
    '--out <path>',
    'one input: write this file instead of standard output; several inputs or a folder: write into this folder',
  )
  .argument('<paths...>')
  .action(async (paths: string[], o: { form: string; to: string; out?: string }) => {
    const ctx = await scratchContext();
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
    const ctx = await scratchContext();
    const { kind, issues } = validateInput(ctx, readJsonFile(file), o.form);
    const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
    if (errors.length) {
      printOutcome(new OperationOutcomeError(422, issues));
      process.stderr.write(`${file}: ${kind}: ${errors.length} problem(s)\n`);
      process.exitCode = 1;
    } else process.stdout.write(`${file}: valid ${kind}\n`);
  });

const careplan = program
  .command('careplan-csv')
  .description(
    'files of the ケアプランデータ連携標準仕様 v4.1 (居宅: UP1KYO/UP2KYO/UP3KYO/UPHOSOKU/UPPLAN/UPSIKYU, DLT1KYO/DLTPLAN)',
  );

async function openStore(dataDir: string | undefined): Promise<Store> {
  const cfg = configFromEnv(process.env, dataDir ? { dataDir } : {});
  const { databaseFile } = await import('../config.js');
  if (cfg.databaseUrl) {
    const { PgStore } = await import('../../engine/storage/pg-store.js');
    return PgStore.connect(cfg.databaseUrl);
  }
  return new SqliteStore(databaseFile(cfg));
}

careplan
  .command('import')
  .description(
    'import files in send-unit order (time stamp, then 1表/2表/3表/6表/7表/補足/削除), each in one transaction; stops at the first file that fails',
  )
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .option(
    '--workers <n>',
    'build the documents on n worker threads beside the store (large files; default 0: on the main thread)',
    toWorkers,
    0,
  )
  .argument('<files...>')
  .action(async (files: string[], o: { dataDir?: string; workers: number }) => {
    const { careplanLayouts, fileComparator, importCareplanFile, parseFileName } =
      await import('../../services/careplan-csv/service.js');
    const named = files.map((f) => ({ path: f, name: parseFileName(basename(f), careplanLayouts()) }));
    const byStandardOrder = fileComparator(careplanLayouts());
    named.sort((a, b) => byStandardOrder(a.name, b.name));
    const store = await openStore(o.dataDir);
    const { startBuildPool } = await import('../../services/documents/build-pool.js');
    const pool = o.workers > 0 ? await startBuildPool(PROJECT_ROOT, o.workers) : undefined;
    try {
      const ctx = { ...(await createGatewayContext(store)), ...(pool ? { builder: pool } : {}) };
      for (const f of named) {
        const party = { kind: 'care-manager-office' as const, code: f.name.senderOffice, name: 'kaigo-gateway CLI' };
        const { summary } = await importCareplanFile(ctx, party, basename(f.path), readFileSync(f.path));
        const created = summary.documents.filter((d) => d.created).length;
        process.stdout.write(
          `${summary.file}: ${summary.replay ? 'already imported' : `${summary.documents.length} document(s) (${created} new), ${summary.superseded.length} superseded, ${summary.deleted.length} deleted`}\n`,
        );
      }
    } finally {
      await pool?.close();
      await store.close();
    }
  });

careplan
  .command('export')
  .description(
    'write the current plans as standard files (one send unit per office, and per office and 対象年月 for 第6・7表)',
  )
  .requiredOption('--out <dir>', 'directory to write the .CSV files to')
  .option('--to <office_type>', '送信先 事業所番号_サービス種類 for the file names', '0000000000_00')
  .option('--timestamp <YYYYMMDDHHMMSS>', 'time stamp of the first send unit (default: now)')
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .action(async (o: { out: string; to: string; timestamp?: string; dataDir?: string }) => {
    const m = /^([0-9]{10})_([0-9A-Z]{2})$/.exec(o.to);
    if (!m) throw new InvalidArgumentError('--to must be <事業所番号 10 digits>_<サービス種類 2>');
    if (o.timestamp !== undefined && !/^[0-9]{14}$/.test(o.timestamp))
      throw new InvalidArgumentError('--timestamp must be YYYYMMDDHHMMSS');
    const now = new Date();
    const p2 = (n: number): string => String(n).padStart(2, '0');
    const timestamp =
      o.timestamp ??
      `${now.getFullYear()}${p2(now.getMonth() + 1)}${p2(now.getDate())}${p2(now.getHours())}${p2(now.getMinutes())}${p2(now.getSeconds())}`;
    const { exportCurrentPlans } = await import('../../services/careplan-csv/service.js');
    const store = await openStore(o.dataDir);
    try {
      const ctx = await createGatewayContext(store);
      const files = await exportCurrentPlans(ctx, { receiverOffice: m[1]!, receiverServiceType: m[2]!, timestamp });
      mkdirSync(o.out, { recursive: true });
      for (const f of files) {
        writeFileSync(join(o.out, f.name), f.bytes);
        process.stdout.write(`${join(o.out, f.name)}\n`);
      }
      process.stdout.write(`${files.length} file(s)\n`);
    } finally {
      await store.close();
    }
  });

careplan
  .command('index-slots')
  .description(
    'once after upgrading from a gateway whose documents lack the slot row imports find them by: store each current care-plan document again with it',
  )
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .action(async (o: { dataDir?: string }) => {
    const { indexCareplanSlots } = await import('../../services/careplan-csv/service.js');
    const store = await openStore(o.dataDir);
    try {
      const r = await indexCareplanSlots(await createGatewayContext(store));
      process.stdout.write(`${r.checked} current care-plan document(s), ${r.indexed} given their slot row\n`);
    } finally {
      await store.close();
    }
  });

const pki = program.command('pki').description('development PKI');
pki
  .command('init')
  .description('create a development CA and server/hospital/municipality/care-office certificates (PEM)')
  .requiredOption('--dir <dir>', 'where to write them')
  .option('--force', 'replace existing files')
  .action(async (o: { dir: string; force?: boolean }) => {
    const files = await initDevPki(o.dir, { force: o.force === true });
    process.stdout.write(
      `PKI in ${files.dir}: ${files.written.length ? `wrote ${files.written.join(', ')}` : 'all files already present'}\n`,
    );
  });

const sqliteOnly = (cfg: GatewayConfig, what: string): void => {
  if (cfg.databaseUrl)
    throw new InvalidArgumentError(
      `${what} is for the embedded SQLite store; with PostgreSQL use pg_dump -Fc / pg_restore (docs/OPERATIONS.md)`,
    );
};

program
  .command('backup')
  .description('copy the embedded database to FILE while the gateway runs (SQLite online backup), and check the copy')
  .requiredOption('--out <file>', 'the backup file to write (must not exist)')
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .action(async (o: { out: string; dataDir?: string }) => {
    const cfg = configFromEnv(process.env, o.dataDir ? { dataDir: o.dataDir } : {});
    sqliteOnly(cfg, 'backup');
    const s = await backupSqlite(databaseFile(cfg), o.out);
    process.stdout.write(`backup ${s.file}: ${s.resources} resources, schema version ${s.schemaVersion ?? 1}\n`);
  });

program
  .command('restore')
  .description('replace the embedded database with a checked backup (stop the gateway first)')
  .requiredOption('--from <file>', 'a file written by kaigo-gateway backup')
  .option('--data-dir <dir>', 'data directory (KAIGO_DATA_DIR, default ./data)')
  .action((o: { from: string; dataDir?: string }) => {
    const cfg = configFromEnv(process.env, o.dataDir ? { dataDir: o.dataDir } : {});
    sqliteOnly(cfg, 'restore');
    mkdirSync(cfg.dataDir, { recursive: true });
    const s = restoreSqlite(o.from, databaseFile(cfg));
    process.stdout.write(`restored ${s.resources} resources into ${s.file}\n`);
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
