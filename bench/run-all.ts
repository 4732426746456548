// npm run bench: the translation bench, then the HTTP bench; prints both tables and writes bench/results/*.json.
// About 70 s in all (≈ 32 s + ≈ 36 s); every request goes to 127.0.0.1.
import { loadavg } from 'node:os';
import { postTable, runPostBench } from './post-throughput.js';
import { translateTable, runTranslateBench } from './translate.js';
import { machineInfo, writeResults } from './lib.js';
import { formsTable, runFormsBench } from './forms.js';
import { careplanCsvTable, runCareplanCsvBench } from './careplan-csv.js';

const m = machineInfo();
console.log(`# kaigo-gateway benchmarks — ${m.date}`);
console.log(
  `${m.nproc} × ${m.cpuModel}, ${m.ramGiB} GiB RAM, Node ${m.node}, SQLite ${m.sqlite}, load average ${m.loadAverageAtStart.join(' ')}`,
);
console.log(
  `commit ${m.git.commit}${m.git.dirtySrc.length ? ` + uncommitted changes in ${m.git.dirtySrc.join(', ')}` : ''}\n`,
);

console.log('## Translation (主治医意見書, in process)\n');
const t = await runTranslateBench();
console.log(translateTable(t));
console.log(`\nwrote ${writeResults('translate.json', t)}\n`);

console.log('## HTTP (undici loop → gateway over mTLS / express hello-world)\n');
const p = await runPostBench();
console.log(postTable(p));
console.log(`\nwrote ${writeResults('post.json', p)}`);
console.log('\n## Every form: translate+validate against the JSON floor\n');
const fb = await runFormsBench();
console.log(formsTable(fb));
console.log(`\nwrote ${writeResults('forms.json', fb)}`);

console.log('\n## ケアプラン CSV import\n');
const cb = await runCareplanCsvBench();
console.log(careplanCsvTable(cb));
console.log(`\nwrote ${writeResults('careplan-csv.json', cb)}`);
console.log(
  `\nload average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
