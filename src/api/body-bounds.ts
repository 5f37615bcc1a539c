/**
 * Bounds on a request body that hold before anything reads it: a declared length over the limit
 * is 413 at once (body-parser would first wait for the whole declared body to arrive, up to
 * Node's five-minute request timeout), and a body still arriving after a deadline is 408.
 */
import type { RequestHandler } from 'express';
import { ApiError, errorBody } from './errors';

/** `Content-Length` over `limitBytes`: 413 without reading a byte, and the connection closes. */
export function declaredLengthLimit(limitBytes: number): RequestHandler {
  return (req, res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared <= limitBytes) return next();
    // The body is never read: the connection cannot carry another request.
    res.set('Connection', 'close');
    next(new ApiError(413, 'payload_too_large', `request body exceeds the size limit of ${limitBytes} bytes`));
  };
}

/**
 * A body not received within `timeoutMs` of its headers: 408 when nothing has answered yet, else
 * (an answer given before the body was read, e.g. 401) the connection is closed.
 */
export function bodyDeadline(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody || req.complete) return next();
    const timer = setTimeout(() => {
      if (req.complete) return;
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res
        .set('Connection', 'close')
        .status(408)
        .json(errorBody('request_timeout', `the request body was not received within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    timer.unref();
    const clear = () => clearTimeout(timer);
    req.once('end', clear);
    req.once('close', clear);
    next();
  };
}
