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
 * After a refusal, the rest of a body is read and thrown away, up to this many bytes, so that a client
 * that reads the answer only once it has sent (as many do) still reads it. Past that the server stops
 * reading: TCP holds a client that is still sending, at no cost, and it reads the answer when it gets to
 * it. The connection is cut after this long unless the body has ended. The answer does not say
 * `Connection: close`: Node would then close the socket as soon as the answer is out, and a client that
 * is still sending would take the reset (EPIPE) before it had read the answer.
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
  if (!res.headersSent) res.status(413).json({ errors: [{ message: error.message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  req.removeAllListeners('data');
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > LINGER_BYTES) req.pause();
  });
  req.resume();
  const cut = setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
  req.once('end', () => clearTimeout(cut));
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
      // once the answer is out: told at once, it would tear the connection
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
