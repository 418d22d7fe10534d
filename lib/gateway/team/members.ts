/**
 * Member tokens. A token is 32 random bytes, shown once when the member is
 * added; the ledger keeps only its SHA-256. It means something only to the
 * gateway whose ledger holds that hash, so it is useless anywhere else, and
 * revoking it is one UPDATE that the next request's lookup already sees.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Headers } from '../headers.js';
import type { Budgets, LedgerStore, MemberRecord } from './store.js';

export const TOKEN_PREFIX = 'cctl_member_';
/** Names show up in tables, logs and URLs: keep them plain. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export function newMemberToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function checkMemberName(name: string): string {
  if (!NAME.test(name)) {
    throw new Error(
      `"${name}" is not a usable member name: use letters, digits, ".", "_", "@" or "-" (at most 64, starting with a letter or digit).`,
    );
  }
  return name;
}

/**
 * Adds the member and returns the token, the only time it exists in clear.
 * A revoked member who is added again keeps the budgets they had, except
 * those given now: coming back with a new token does not lift their limits
 * (`budget NAME` with no flags removes them, on purpose).
 */
export function addMember(store: LedgerStore, name: string, budgets: Budgets = {}): string {
  const token = newMemberToken();
  store.addMember(checkMemberName(name), tokenHash(token), budgetsOnAdd(store.members(), name, budgets));
  return token;
}

/** The budgets a member is added with: a revoked member's old ones, then those given now (see addMember). */
export function budgetsOnAdd(members: readonly MemberRecord[], name: string, budgets: Budgets): Budgets {
  const previous = members.find((m) => m.name === name && m.revokedAt !== undefined);
  const { name: _name, createdAt: _created, revokedAt: _revoked, ...kept } = previous ?? { name, createdAt: 0 };
  return { ...kept, ...budgets };
}

/** The credential the client sent: `Authorization: Bearer` or `x-api-key`, as Claude Code sends either. */
export function presentedToken(headers: Headers): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  if (match?.[1]) return match[1];
  const key = headers['x-api-key'];
  return typeof key === 'string' && key.trim() ? key.trim() : undefined;
}
