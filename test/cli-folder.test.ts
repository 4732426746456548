// translate over a folder: good files are written, bad ones are named in the summary, the exit code is non-zero.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { expandInputs, summary, translateFiles } from '../src/adapters/cli/translate-folder.js';
import { PROJECT_ROOT } from '../src/base/project.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';

const run = promisify(execFile);
const SAMPLES = join(PROJECT_ROOT, 'test', 'samples', 'shujii-ikensho');

describe('CLI translate over a folder', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kaigo-folder-'));
    mkdirSync(join(dir, 'in'));
    for (const f of readdirSync(SAMPLES)) copyFileSync(join(SAMPLES, f), join(dir, 'in', f));
    writeFileSync(join(dir, 'in', 'broken.json'), '{"header": ');
    writeFileSync(
      join(dir, 'in', 'bad-code.json'),
      JSON.stringify({
        header: {
          recordDate: '2026-11-20',
          insurerNumber: '131012',
          insuredNumber: '0001234567',
          applicant: { name: '誤 入力', sex: '9' },
          doctor: { name: '医師' },
          institution: { name: '病院', code: '1311234567' },
        },
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('translates the good files, names each failure, and counts progress per file', async () => {
    const ctx = await createGatewayContext(new SqliteStore(':memory:'));
    const ticks: number[] = [];
    let total = 0;
    const files = expandInputs([join(dir, 'in')]);
    const r = translateFiles(ctx, ctx.forms.get('shujii-ikensho')!, 'fhir', files, join(dir, 'out'), {
      start: (t) => (total = t),
      tick: () => ticks.push(1),
      stop: () => undefined,
    });
    expect(total).to.equal(files.length);
    expect(ticks.length).to.equal(files.length);
    expect(r.ok.length).to.equal(readdirSync(SAMPLES).length);
    expect(r.failed.map((f) => f.file.split('/').pop()).sort()).to.deep.equal(['bad-code.json', 'broken.json']);
    const text = summary(r);
    expect(text).to.match(/^\d+ translated, 2 failed/);
    expect(text).to.include('header.applicant.sex').and.include('header.insurerNumber');
    for (const f of readdirSync(SAMPLES))
      expect(existsSync(join(dir, 'out', f.replace('.json', '.bundle.json')))).to.equal(true);
  });

  it('the command exits non-zero when a file failed, and still writes the good ones', async () => {
    const out = join(dir, 'cli-out');
    const err = await run(process.execPath, [
      join(PROJECT_ROOT, 'bin', 'kaigo-gateway.js'),
      'translate',
      '--form',
      'shujii-ikensho',
      '--to',
      'fhir',
      join(dir, 'in'),
      '--out',
      out,
    ]).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err?.code).to.equal(1);
    expect(err?.stderr).to.match(/translated, 2 failed/);
    expect(readdirSync(out).length).to.equal(readdirSync(SAMPLES).length);
  });
});
