// Structured JSON logs (pino). What is logged is chosen field by field: route templates instead of paths and
// queries (which can hold 被保険者番号), organisation codes instead of names, never bodies or certificates.
import { pino, type Logger } from 'pino';

export function createLogger(opts: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.KAIGO_LOG_LEVEL ?? 'info',
      base: { service: 'kaigo-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', 'cert', 'key', 'body'], remove: true },
    },
    opts.destination ?? process.stdout,
  );
}
export type { Logger };
