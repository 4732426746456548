// Reading a request body within its route's byte limit and the body timeout. A declared Content-Length over the
// limit is refused before a byte is read; a body that grows past it, or trickles in slower than the timeout allows,
// is refused the moment it does (the caller then closes the connection instead of draining the rest).
import type { IncomingMessage } from 'node:http';
import { OperationOutcomeError, issue, tooCostly } from '../../base/outcome.js';

/** True when the request carries a body at all (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length). */
export const hasBody = (req: IncomingMessage): boolean =>
  req.headers['transfer-encoding'] !== undefined ||
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');

/** The client went away before the body was complete: nobody is left to answer. */
export class ClientGone extends Error {}

const tooLarge = (limit: number): OperationOutcomeError =>
  tooCostly(413, `the request body is larger than this endpoint's limit of ${limit} bytes`);

export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.reject(tooLarge(maxBytes));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: unknown): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onClose);
      if (err !== undefined) {
        req.pause();
        reject(err);
      }
    };
    const timer = setTimeout(
      () =>
        done(
          new OperationOutcomeError(408, [issue('timeout', `the request body did not arrive within ${timeoutMs} ms`)]),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) done(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks, size));
    };
    const onGone = (): void => done(new ClientGone('the client closed the connection during the body'));
    const onClose = (): void => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onClose);
  });
}

/**
 * What the rest of a refused body may cost before the connection is simply closed. A client that is still sending
 * when the connection closes under it sees a reset (EPIPE) instead of the answer, so a refused body is read to its
 * end and thrown away first, as long as it stays within this much.
 */
export const DRAIN_LIMIT = { bytes: 16 * 1024 * 1024, ms: 5_000 };

/** Reads the rest of the body and discards it; false when it is more than `DRAIN_LIMIT` allows (then close). */
export function drainBody(req: IncomingMessage): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > DRAIN_LIMIT.bytes) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    let size = 0;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (!ok) req.pause();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), DRAIN_LIMIT.ms);
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > DRAIN_LIMIT.bytes) done(false);
    };
    const onEnd = (): void => done(true);
    const onClose = (): void => done(req.complete);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}
