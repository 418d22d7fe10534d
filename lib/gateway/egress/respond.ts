/**
 * What the egress proxy answers itself: plain text a person can read in
 * curl's or git's output, with an RFC 9209 Proxy-Status header for tools.
 */
import type { Duplex } from 'node:stream';
import http from 'node:http';
import type { Decision } from './decide.js';

/** RFC 9209 error types for each way a proxy request can end here. */
export function proxyStatusError(reason: string): string {
  switch (reason) {
    case 'bad-target':
      return 'http_request_error';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'dns_error';
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'timeout':
      return 'connection_timeout';
    case 'address':
      return 'destination_ip_prohibited';
    case 'egress-off':
    case 'source':
    case 'not-allowed':
      return 'http_request_denied';
    default:
      return 'destination_unavailable';
  }
}

export interface PlainAnswer {
  status: number;
  proxyStatus: string;
  body: string;
}

export function denialAnswer(decision: Extract<Decision, { allowed: false }>): PlainAnswer {
  return { status: decision.status, proxyStatus: proxyStatusError(decision.reason), body: decision.message };
}

/** A destination that was allowed but could not be reached. */
export function failureAnswer(code: string, where: string): PlainAnswer {
  const timeout = code === 'timeout';
  return {
    status: timeout ? 504 : 502,
    proxyStatus: proxyStatusError(code),
    body: timeout ? `cctl gateway: ${where} did not accept a connection in time.\n` : `cctl gateway: cannot reach ${where} (${code}).\n`,
  };
}

function headers(answer: PlainAnswer): Record<string, string | number> {
  return {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(answer.body),
    'proxy-status': `cctl-gateway; error=${answer.proxyStatus}`,
    connection: 'close',
  };
}

/**
 * On a CONNECT socket, which the HTTP server has handed over: the response is
 * written raw, and the socket closed once it is flushed, so a client that
 * never closes its side does not hold it open.
 */
export function answerSocket(socket: Duplex, answer: PlainAnswer): void {
  const lines = Object.entries(headers(answer)).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${answer.status} ${http.STATUS_CODES[answer.status] ?? ''}\r\n${lines.join('')}\r\n${answer.body}`);
}

export function answerResponse(res: http.ServerResponse, answer: PlainAnswer): void {
  res.writeHead(answer.status, headers(answer));
  res.end(answer.body);
}
