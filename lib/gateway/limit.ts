/**
 * The limit pass: a body the gateway would refuse anyway is refused before a
 * byte of it goes upstream when its size is declared, and as soon as the
 * count passes the limit when it is not (the forward pass counts).
 */
import { GatewayFailure } from './api-error.js';
import type { Refusal } from './authenticate.js';
import type { Headers } from './headers.js';

export function declaredTooLarge(headers: Headers, maxBodyBytes: number): Refusal | undefined {
  const declared = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (declared === undefined || declared <= maxBodyBytes) return undefined;
  return {
    reason: 'request body over the limit',
    failure: new GatewayFailure(
      413,
      'request_too_large',
      `Request body is ${declared} bytes; the gateway accepts at most ${maxBodyBytes}.`,
    ),
  };
}

export function bodyOverLimit(maxBodyBytes: number): GatewayFailure {
  return new GatewayFailure(413, 'request_too_large', `Request body is over the gateway's limit of ${maxBodyBytes} bytes.`);
}
