// A real gateway in a child process, for benches that must not share an event loop with the client that measures
// it: `startGatewayChild(config)` forks this file, which starts startTestGateway(config) (temporary data directory,
// development PKI, removed when it stops) and reports its URL and PKI directory.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isMain } from './lib.js';

export interface GatewayChild {
  url: string;
  pkiDir: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

type FromChild = { ready: true; url: string; pkiDir: string; dataDir: string } | { stopped: true };

export function startGatewayChild(config: Record<string, unknown> = {}): Promise<GatewayChild> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, KAIGO_LOG_LEVEL: process.env.KAIGO_LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`gateway child exited (${code}) before it was ready`)));
    child.once('message', (m: FromChild) => {
      if (!('ready' in m)) return;
      child.removeAllListeners('exit');
      resolve({
        url: m.url,
        pkiDir: m.pkiDir,
        dataDir: m.dataDir,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.send('stop');
          }),
      });
    });
  });
}

async function serve(config: Record<string, unknown>): Promise<void> {
  const { startTestGateway } = await import('../test/support/gateway.js');
  const gw = await startTestGateway({ config });
  const stop = (): void => {
    const exit = setTimeout(() => process.exit(0), 5_000);
    void gw.stop().finally(() => (clearTimeout(exit), process.exit(0)));
  };
  process.once('disconnect', stop); // the bench went away: do not linger
  process.once('message', stop);
  process.send!({ ready: true, url: gw.url, pkiDir: gw.pkiDir, dataDir: gw.dataDir } satisfies FromChild);
}

if (isMain(import.meta.url) && process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3] ?? '{}'));
