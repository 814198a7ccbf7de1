import { Readable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';

// Request bodies for /graphql, bounded by the bytes actually read, whatever the request declares: a
// chunked body has no Content-Length to check. A JSON body is read here, up to its bound, and handed on
// whole; a multipart upload streams on through a counter. Either answers 413 past its bound.

/** JSON bodies larger than this are refused (uploads are multipart, and limited per file). */
export const MAX_JSON_BYTES = 256 * 1024;

/** The most an upload's multipart body may hold: its files, and room for its own parts (operations, map). */
export const maxUploadBody = (maxUploadBytes: number) => maxUploadBytes + MAX_JSON_BYTES;

export class BodyTooLarge extends Error {
  constructor(readonly max: number) {
    super(`the request body is larger than ${max.toLocaleString('en-US')} bytes: at most ${max.toLocaleString('en-US')} are accepted`);
  }
}

const tooLarge = (res: Response, error: BodyTooLarge) => {
  if (!res.headersSent) res.status(413).set('connection', 'close').json({ errors: [{ message: error.message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
};

/** The chunks of `req`, failing with BodyTooLarge once more than `max` bytes have come. */
async function* counted(req: Request, max: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) throw new BodyTooLarge(max);
    yield chunk;
  }
}

export function boundedBody(maxUploadBytes: number) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const multipart = /^multipart\/form-data/i.test(req.get('content-type') ?? '');
    // An upload's files together are at most the upload limit.
    const max = multipart ? maxUploadBody(maxUploadBytes) : MAX_JSON_BYTES;
    const declared = Number(req.get('content-length') ?? 0);
    if (declared > max) return tooLarge(res, new BodyTooLarge(max));
    if (multipart) {
      // The upload parser reads this stream instead of the request; past the bound it fails, and the
      // answer is 413. (A stream, not a bare iterator: the server adapter takes a body it can enumerate.)
      const body = counted(req, max);
      req.body = Readable.from((async function* () {
        try {
          yield* body;
        } catch (error) {
          if (!(error instanceof BodyTooLarge)) throw error;
          // The answer goes out whole before the parser hears of the failure and gives up on the request.
          tooLarge(res, error);
          if (!res.writableFinished) await new Promise((resolve) => res.once('finish', resolve));
          throw error;
        }
      })());
      return next();
    }
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of counted(req, max)) chunks.push(chunk);
      const body = Buffer.concat(chunks);
      // An empty body is left for GraphQL to explain; a read body is handed on as it came.
      if (body.length > 0) req.body = body;
      next();
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) return next(error);
      // The rest of the body is not read: the answer closes the connection.
      tooLarge(res, error);
    }
  };
}
