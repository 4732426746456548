// The CLI as a user runs it: `node bin/kaigo-gateway.js …` in a child process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { JP_CORE_DIR } from './support/corpus.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin', 'kaigo-gateway.js');
const SAMPLES = join(ROOT, 'test', 'samples', 'shujii-ikensho');
const JP_PATIENT = join(JP_CORE_DIR, 'Patient-jp-patient-example-1.json');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with a hard time limit (the child is killed when it is exceeded). */
function cli(args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, TZ: 'Asia/Tokyo' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kaigo-gateway ${args.join(' ')} did not finish within ${timeoutMs} ms\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8')) as unknown;

describe('CLI (bin/kaigo-gateway.js as a child process)', function () {
  this.timeout(60_000);
  let tmp: string;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'kaigo-cli-'));
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  describe('translate', () => {
    const samples = readdirSync(SAMPLES)
      .filter((n) => n.endsWith('.json'))
      .sort();

    it('has samples to translate', () => {
      expect(samples.length).to.be.greaterThan(0);
    });

    for (const name of samples) {
      it(`--to fhir then --to form gives back ${name} unchanged`, async () => {
        const source = join(SAMPLES, name);
        const bundleFile = join(tmp, `${name}.bundle.json`);
        const toFhir = await cli(['translate', '--form', 'shujii-ikensho', '--to', 'fhir', source]);
        expect(toFhir.code, toFhir.stderr).to.equal(0);
        const bundle = JSON.parse(toFhir.stdout) as {
          resourceType: string;
          type: string;
          entry: Array<{ resource: { resourceType: string } }>;
        };
        expect(bundle.resourceType).to.equal('Bundle');
        expect(bundle.type).to.equal('document');
        expect(bundle.entry.map((e) => e.resource.resourceType)).to.include('QuestionnaireResponse');
        writeFileSync(bundleFile, toFhir.stdout);

        const toForm = await cli(['translate', '--form', 'shujii-ikensho', '--to', 'form', bundleFile]);
        expect(toForm.code, toForm.stderr).to.equal(0);
        expect(JSON.parse(toForm.stdout)).to.deep.equal(readJson(source));
      });
    }

    it('--out writes the translation to a file instead of standard output', async () => {
      const out = join(tmp, 'out.bundle.json');
      const r = await cli([
        'translate',
        '--form',
        'shujii-ikensho',
        '--to',
        'fhir',
        '--out',
        out,
        join(SAMPLES, 'minimal.json'),
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.equal('');
      expect((readJson(out) as { resourceType: string }).resourceType).to.equal('Bundle');
    });
  });

  describe('validate', () => {
    it('exits 0 for a valid care-form sample', async () => {
      const r = await cli(['validate', '--form', 'shujii-ikensho', join(SAMPLES, 'full.json')]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/valid/);
    });

    it('exits non-zero and prints an OperationOutcome naming header.applicant.sex for a bad choice code', async () => {
      const payload = readJson(join(SAMPLES, 'full.json')) as { header: { applicant: { sex: string } } };
      payload.header.applicant.sex = '9';
      const bad = join(tmp, 'bad-sex.json');
      writeFileSync(bad, JSON.stringify(payload, null, 2));
      const r = await cli(['validate', '--form', 'shujii-ikensho', bad]);
      expect(r.code).to.be.a('number').and.not.equal(0);
      const start = r.stderr.indexOf('{');
      expect(start, r.stderr).to.be.at.least(0);
      // The OperationOutcome is the first JSON object on stderr (a summary line follows it).
      let outcome:
        | { resourceType: string; issue: Array<{ severity: string; expression?: string[]; diagnostics?: string }> }
        | undefined;
      for (let end = r.stderr.lastIndexOf('}'); end > start && !outcome; end = r.stderr.lastIndexOf('}', end - 1)) {
        try {
          outcome = JSON.parse(r.stderr.slice(start, end + 1));
        } catch {
          /* try a shorter slice */
        }
      }
      expect(outcome, r.stderr).to.not.equal(undefined);
      expect(outcome!.resourceType).to.equal('OperationOutcome');
      const errors = outcome!.issue.filter((i) => i.severity === 'error' || i.severity === 'fatal');
      expect(errors).to.have.length.greaterThan(0);
      expect(
        errors.some((i) => i.expression?.includes('header.applicant.sex')),
        JSON.stringify(outcome),
      ).to.equal(true);
    });

    it('exits 0 for the JP Core Patient example', async () => {
      const r = await cli(['validate', '--form', 'shujii-ikensho', JP_PATIENT]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/valid FHIR Patient/);
    });
  });

  describe('pki init', () => {
    it('writes exactly the CA, server and three party certificates with their keys', async () => {
      const dir = join(tmp, 'pki');
      const r = await cli(['pki', 'init', '--dir', dir]);
      expect(r.code, r.stderr).to.equal(0);
      expect(readdirSync(dir).sort()).to.deep.equal(
        [
          'ca.crt',
          'ca.key',
          'server.crt',
          'server.key',
          'hospital.crt',
          'hospital.key',
          'municipality.crt',
          'municipality.key',
          'care-office.crt',
          'care-office.key',
        ].sort(),
      );
      for (const f of readdirSync(dir)) {
        const pem = readFileSync(join(dir, f), 'utf8');
        expect(pem, f).to.match(f.endsWith('.key') ? /^-----BEGIN PRIVATE KEY-----/ : /^-----BEGIN CERTIFICATE-----/);
      }
    });
  });
});
