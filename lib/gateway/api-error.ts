/**
 * Errors the gateway answers itself, in the Messages API's own shape so that
 * Claude Code shows them sensibly.
 */
import type http from 'node:http';

export type ApiErrorType =
  'api_error' | 'authentication_error' | 'invalid_request_error' | 'not_found_error' | 'request_too_large' | 'rate_limit_error';

export function apiErrorBody(type: ApiErrorType, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

/** A failure the gateway answers itself, with the status it maps to. */
export class GatewayFailure extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }
}

/** Writes an Anthropic-style error response; returns the body's size for the log. */
export function sendError(res: http.ServerResponse, status: number, type: ApiErrorType, message: string, closeConnection = false): number {
  const body = apiErrorBody(type, message);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  // The rest of an unread request body would otherwise be read as the next request.
  if (closeConnection) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
  return Buffer.byteLength(body);
}
