/**
 * The egress decision for one proxy request: who asks, for what, and whether
 * the allow-list lets it through. Pure, so every branch is tested directly.
 */
import { type Destination, entryFor, hostPort, isAllowed, parseDestination } from './grammar.js';
import type { EgressConfig } from './config.js';
import { addressRefusal, type AddressCheck, checkAddresses } from './address-check.js';

/** `address`: the name is listed, but resolves to an address it may not reach (address-check.ts). */
export type DenialReason = 'egress-off' | 'source' | 'bad-target' | 'not-allowed' | 'address';

export type Decision =
  | { allowed: true; destination: Destination }
  | { allowed: false; reason: DenialReason; status: 400 | 403; destination?: Destination; message: string };

/**
 * `target` is a CONNECT authority (host:port) or an absolute URL's host
 * (whose port defaults to 80); `source` is the client's address.
 */
export function decide(egress: EgressConfig | undefined, source: string | undefined, target: string, defaultPort: number): Decision {
  const destination = parseDestination(target, defaultPort);
  const named = destination && hostPort(destination);
  const howToAllow = destination ? `To allow it, run on the host: cctl init --allow ${entryFor(destination)} && cctl up\n` : '';
  if (!egress) {
    return {
      allowed: false,
      reason: 'egress-off',
      status: 403,
      ...(destination && { destination }),
      message: `cctl gateway: egress is off for this stack, so ${named ?? 'nothing'} can be reached through the gateway.\n${howToAllow}`,
    };
  }
  if (!egress.sources.allows(source)) {
    return {
      allowed: false,
      reason: 'source',
      status: 403,
      ...(destination && { destination }),
      message: `cctl gateway: egress is only for the stack's own containers, and ${source ?? 'this client'} is not on the stack's networks.\n`,
    };
  }
  if (!destination) {
    return {
      allowed: false,
      reason: 'bad-target',
      status: 400,
      message: `cctl gateway: "${target.slice(0, 300)}" is not a host:port destination.\n`,
    };
  }
  if (!isAllowed(egress.allow, destination)) {
    return {
      allowed: false,
      reason: 'not-allowed',
      status: 403,
      destination,
      message: `cctl gateway: ${named} is not on this stack's egress allow-list.\n${howToAllow}`,
    };
  }
  return { allowed: true, destination };
}

/** The denial for a listed name whose address may not be reached. */
export function addressDenial(
  destination: Destination,
  check: Extract<AddressCheck, { ok: false }>,
): Extract<Decision, { allowed: false }> {
  const entry = entryFor({ host: check.address, port: destination.port });
  return { allowed: false, reason: 'address', status: 403, destination, message: addressRefusal(hostPort(destination), check, entry) };
}

/**
 * After the allow-list: the destination's name resolved once and its
 * addresses checked. The address to dial, the denial to answer, or the
 * resolver's error code (ENOTFOUND, EAI_AGAIN) for a 502.
 */
export async function resolveDestination(
  egress: EgressConfig,
  destination: Destination,
): Promise<{ address: string } | { denial: Extract<Decision, { allowed: false }>; address: string } | { error: string }> {
  let addresses: string[];
  try {
    addresses = await egress.net.resolve(destination.host);
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  const check = checkAddresses(addresses, destination, egress.allow, egress.net.ownAddresses());
  if (!check) return { error: 'ENOTFOUND' };
  return check.ok ? { address: check.address } : { denial: addressDenial(destination, check), address: check.address };
}
