// A real gateway in a child process, for benches that must not share an event loop with the client that measures
// it: `startGatewayChild(config)` forks this file, which starts startTestGateway(config) (temporary data directory,
// development PKI, removed when it stops) and reports its URL and PKI directory.
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { isMain } from './lib.js';

export interface GatewayChild {
  url: string;
  pkiDir: string;
  dataDir: string;
  pid: number;
  /** the gateway's own event-loop delay (ms) since the previous call: what every request waited at worst */
  eventLoopDelay(): Promise<LoopDelay>;
  stop(): Promise<void>;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

type FromChild = { ready: true; url: string; pkiDir: string; dataDir: string } | { delay: LoopDelay };

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
        eventLoopDelay: () =>
          new Promise<LoopDelay>((done) => {
            const on = (msg: FromChild): void => {
              if (!('delay' in msg)) return;
              child.off('message', on);
              done(msg.delay);
            };
            child.on('message', on);
            child.send('delay');
          }),
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
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('message', (m) => {
    if (m !== 'delay') return stop();
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    process.send!({ delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) } });
    delay.reset();
  });
  process.send!({ ready: true, url: gw.url, pkiDir: gw.pkiDir, dataDir: gw.dataDir } satisfies FromChild);
}

if (isMain(import.meta.url) && process.argv[2] === '--serve') await serve(JSON.parse(process.argv[3] ?? '{}'));
