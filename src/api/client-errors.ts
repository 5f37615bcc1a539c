/**
 * Requests that Node's HTTP parser refuses before Express sees them (a request line or headers
 * over the 16 KB limit, a malformed request) still get an answer in the one error shape, instead
 * of an empty 431 or a reset connection.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody } from './errors';

function reply(socket: Socket, status: number, reason: string, code: string, message: string): void {
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      reply(socket, 431, 'Request Header Fields Too Large', 'headers_too_large', 'the request line and headers may total at most 16 KB');
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      reply(socket, 408, 'Request Timeout', 'request_timeout', 'the request was not received in time');
    } else {
      reply(socket, 400, 'Bad Request', 'bad_request', 'the request is not valid HTTP');
    }
  });
}
