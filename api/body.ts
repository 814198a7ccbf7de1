import { PassThrough } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';

// Request bodies for /graphql, bounded by the bytes actually read, whatever the request declares: a
// chunked body has no Content-Length to check. A JSON body is read here, up to its bound, and handed on
// whole; a multipart upload streams on through a counter. Either answers 413 past its bound.

/** JSON bodies larger than this are refused (uploads are multipart, and limited per file). */
export const MAX_JSON_BYTES = 256 * 1024;

/** The most an upload's multipart body may hold: its files, and room for its own parts (operations, map). */
export const maxUploadBody = (maxUploadBytes: number) => maxUploadBytes + MAX_JSON_BYTES;

/**
 * After a refusal, the rest of a body is read and thrown away, up to this many bytes or this long, before
 * the connection is cut: a client that is still sending reads the answer only once it has sent (as most
 * do), and one that never stops is cut off. Bytes, not only time, bound it, so that a busy client is given
 * the time it needs to read the answer and a fast one cannot send without end.
 */
const LINGER_BYTES = 8 * 1024 * 1024;
const LINGER_MS = 10_000;

export class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`the request body is larger than ${max.toLocaleString('en-US')} bytes: at most ${max.toLocaleString('en-US')} are accepted`);
  }
}

/** Answers 413, then reads what is still coming without keeping it, for a while, and closes. */
function refuse(req: Request, res: Response, error: BodyTooLarge): void {
  if (!res.headersSent) res.status(413).set('connection', 'close').json({ errors: [{ message: error.message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  req.removeAllListeners('data');
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) req.socket.destroy();
  });
  req.resume();
  setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
}

/** Calls `onChunk` with each chunk of `req` until more than `max` bytes have come, then `onTooLarge` once. */
function countChunks(req: Request, max: number, onChunk: (chunk: Buffer) => void, onTooLarge: (error: BodyTooLarge) => void): void {
  let total = 0;
  req.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > max) onTooLarge(new BodyTooLarge(max));
    else onChunk(chunk);
  });
}

export function boundedBody(maxUploadBytes: number) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const multipart = /^multipart\/form-data/i.test(req.get('content-type') ?? '');
    // An upload's files together are at most the upload limit.
    const max = multipart ? maxUploadBody(maxUploadBytes) : MAX_JSON_BYTES;
    if (Number(req.get('content-length') ?? 0) > max) return refuse(req, res, new BodyTooLarge(max));
    if (multipart) {
      // The upload parser reads this stream instead of the request. Past the bound it is told so only
      // once the answer is out and the connection closed: told at once, it would tear the connection
      // down under the answer.
      const body = new PassThrough();
      let refused = false;
      countChunks(req, max, (chunk) => {
        if (!body.write(chunk)) req.pause();
      }, (error) => {
        refused = true;
        refuse(req, res, error);
        res.once('close', () => body.destroy(error));
      });
      body.on('drain', () => {
        if (!refused) req.resume();
      });
      req.on('end', () => {
        if (!refused) body.end();
      });
      req.on('error', (error) => body.destroy(error));
      req.body = body;
      return next();
    }
    const chunks: Buffer[] = [];
    countChunks(req, max, (chunk) => chunks.push(chunk), (error) => {
      chunks.length = 0;
      refuse(req, res, error);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks);
      // An empty body is left for GraphQL to explain; a read body is handed on as it came.
      if (body.length > 0) req.body = body;
      next();
    });
    req.on('error', next);
  };
}
