import { readFileSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createGatewayContext } from '../src/engine/gateway-context.js';
import { SqliteStore } from '../src/engine/storage/sqlite-store.js';
import { submitDocument } from '../src/services/documents/submit-document.js';
const f = '/tmp/size-test.sqlite';
for (const s of ['', '-wal', '-shm']) rmSync(f + s, { force: true });
const store = new SqliteStore(f);
const ctx = await createGatewayContext(store);
const def = ctx.forms.get('shujii-ikensho')!;
const base = JSON.parse(readFileSync('test/samples/shujii-ikensho/full.json', 'utf8'));
base.header.institution.code = '1311234567';
const N = 300;
let bundleBytes = 0;
for (let i = 0; i < N; i++) {
  const p = structuredClone(base); p.header.documentId = `size-${i}`;
  const r = await store.transaction((tx) => submitDocument(ctx, tx, { kind: 'medical-institution', code: '1311234567', name: 'h' }, def, p));
  bundleBytes += JSON.stringify(r.doc.bundle).length;
}
await store.close();
const db = new Database(f);
db.pragma('wal_checkpoint(TRUNCATE)');
const rows = db.prepare(`SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC`).all() as {name:string;bytes:number}[];
console.log('bundle JSON bytes/doc', Math.round(bundleBytes / N));
for (const r of rows) console.log(r.name.padEnd(28), Math.round(r.bytes / N), 'B/doc');
console.log('file B/doc', Math.round(statSync(f).size / N));
console.log(db.prepare(`SELECT type, COUNT(*) n, SUM(LENGTH(content)) b FROM resources GROUP BY type`).all());
console.log(db.prepare(`SELECT type, param, COUNT(*) n FROM search_index GROUP BY type, param ORDER BY n DESC LIMIT 40`).all().map((r: any) => `${r.type}.${r.param}:${r.n / N}`).join(' '));
