/**
 * Requests that never became requests: Node's parser gave up on them. Each
 * gets the status that says why (RFC 9110, RFC 6585) and a log line; the
 * process never sees the error.
 */
import type { Socket } from 'node:net';
import { apiErrorBody } from './api-error.js';
import { type LogWriter, logEvent } from './log.js';

export interface ClientErrorAnswer {
  status: number;
  reason: string;
  message: string;
}

export function clientErrorAnswer(code: string | undefined): ClientErrorAnswer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: 'The request headers are too large for the gateway.' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', message: 'The request headers did not arrive in time.' };
    default:
      return { status: 400, reason: 'Bad Request', message: 'Malformed HTTP request.' };
  }
}

/** The server's 'clientError' listener. */
export function answerClientErrors(write: LogWriter): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    // A reset is the client leaving, not a malformed request: nothing to answer or log.
    if (error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const answer = clientErrorAnswer(error.code);
    logEvent(write, 'client-error', { status: answer.status, code: error.code ?? 'unknown', source: socket.remoteAddress });
    // A response already under way on this socket (a body that came too
    // slowly while the reply was being relayed) cannot take a second one.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const body = apiErrorBody('invalid_request_error', answer.message);
    socket.end(
      `HTTP/1.1 ${answer.status} ${answer.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  };
}
