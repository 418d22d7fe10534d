/**
 * The authenticate pass. In team-key mode the client must present the
 * project's client token, which is then swapped for the team credential; in
 * login mode the client's own credentials pass through untouched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayFailure } from './api-error.js';
import type { GatewayConfig } from './config.js';
import type { Headers } from './headers.js';

/** Hashing first makes the comparison constant-time even when the lengths differ. */
export function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function presentedCredentials(headers: Headers): string[] {
  const found: string[] = [];
  const auth = headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) found.push(match[1].trim());
  }
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) found.push(apiKey.trim());
  return found;
}

/** Why a request was refused, for the log line; the client sees the failure's message. */
export interface Refusal {
  failure: GatewayFailure;
  reason: string;
}

/**
 * Checks the client's credential against the config and, when accepted,
 * puts the credential for the upstream into `outgoing`.
 */
export function authenticate(config: GatewayConfig, incoming: Headers, outgoing: Headers): Refusal | undefined {
  if (config.authMode !== 'team-key') return undefined;
  const presented = presentedCredentials(incoming);
  if (!presented.some((value) => sameSecret(value, config.clientToken!))) {
    return presented.length
      ? {
          reason: 'client token rejected',
          failure: new GatewayFailure(
            401,
            'authentication_error',
            'The gateway did not accept this credential. Use the client token that cctl init stored for this project.',
          ),
        }
      : {
          reason: 'no client credential',
          failure: new GatewayFailure(
            401,
            'authentication_error',
            'No credential. Send the project client token as Authorization: Bearer or x-api-key.',
          ),
        };
  }
  delete outgoing.authorization;
  delete outgoing['x-api-key'];
  const team = config.teamCredential!;
  if (team.kind === 'api-key') outgoing['x-api-key'] = team.value;
  else outgoing.authorization = `Bearer ${team.value}`;
  // A member's gateway tells the team gateway which project this is; the client cannot set it.
  delete outgoing['x-cctl-project'];
  if (config.projectName) outgoing['x-cctl-project'] = config.projectName;
  return undefined;
}
