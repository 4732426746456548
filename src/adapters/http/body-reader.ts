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
