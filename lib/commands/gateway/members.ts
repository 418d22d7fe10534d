/**
 * `cctl gateway member add|list|revoke|budget`: run in the gateway's
 * container (team/cli.js), printed here; a new member's token is shown once,
 * with how they connect.
 */
import { hostname } from 'node:os';
import { UsageError } from '../../kernel/errors.js';
import { readGatewayMarker, requireGatewayFolder } from '../../project/team-gateway.js';
import { gatewayProject, memberCommand } from '../../ops/team-gateway.js';
import { formatTable } from '../../ui/table.js';
import { type Options, out, str } from './options.js';

const BUDGET_FLAGS = ['dailyTokens', 'monthlyTokens', 'dailyCost', 'monthlyCost', 'maxInFlight'] as const;

function budgetArgs(options: Options): string[] {
  return BUDGET_FLAGS.flatMap((key) => {
    const v = str(options, key);
    return v === undefined ? [] : [`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v];
  });
}

/** How the new member connects: this server's name and port, over https unless the gateway is on a private network. */
function memberHint(dir: string): string {
  const marker = readGatewayMarker(dir);
  const listen = marker?.listen ?? '0.0.0.0';
  const local = listen === '127.0.0.1' || listen === '::1';
  const any = listen === '0.0.0.0' || listen === '::';
  const host = any ? hostname() : listen.includes(':') ? `[${listen}]` : listen;
  const url = `${marker?.tls ? 'https' : 'http'}://${host}:${marker?.port ?? 3000}`;
  const reach = local
    ? 'The gateway listens on 127.0.0.1 only (no TLS yet): put a TLS reverse proxy in front and give members its https:// URL, or re-run "cctl gateway init" with --tls-cert/--tls-key.\n'
    : '';
  const ca = marker?.tls ? " (with a self-signed certificate, add --ca-cert FILE with the gateway's certificate)" : '';
  return `${reach}On their machine, in their project${ca}:\n  CCTL_MEMBER_TOKEN=<token> cctl init --team-gateway ${local ? 'https://YOUR-TLS-PROXY' : url}\n`;
}

export async function member(dir: string, args: string[], options: Options): Promise<number> {
  requireGatewayFolder(dir);
  const [verb, name] = args;
  const project = gatewayProject(dir);
  if (verb === 'list') {
    const { members } = JSON.parse(await memberCommand(project, ['list'])) as {
      members: {
        name: string;
        createdAt: number;
        revokedAt?: number;
        dailyTokens?: number;
        monthlyTokens?: number;
        dailyCost?: number;
        monthlyCost?: number;
        maxInFlight?: number;
      }[];
    };
    if (options.json) out(`${JSON.stringify({ members }, null, 2)}\n`);
    else {
      const budget = (m: (typeof members)[number]) =>
        [
          m.dailyTokens && `${m.dailyTokens} tokens/day`,
          m.monthlyTokens && `${m.monthlyTokens} tokens/month`,
          m.dailyCost && `$${m.dailyCost}/day`,
          m.monthlyCost && `$${m.monthlyCost}/month`,
          m.maxInFlight && `${m.maxInFlight} in flight`,
        ]
          .filter(Boolean)
          .join(', ') || '-';
      out(
        formatTable([
          ['MEMBER', 'STATE', 'ADDED', 'BUDGET'],
          ...members.map((m) => [m.name, m.revokedAt ? 'revoked' : 'active', new Date(m.createdAt).toISOString().slice(0, 10), budget(m)]),
        ]),
      );
    }
    return 0;
  }
  if (!name || !['add', 'revoke', 'budget'].includes(verb ?? '')) {
    throw new UsageError(
      'cctl gateway member needs add NAME, list, revoke NAME or budget NAME.',
      'Example: cctl gateway member add alice --daily-tokens 2000000',
    );
  }
  const stdout = await memberCommand(project, [verb!, name, ...(verb === 'revoke' ? [] : budgetArgs(options))]);
  if (verb === 'add') {
    const token = stdout.trim();
    if (options.json) out(`${JSON.stringify({ ok: true, member: name, token })}\n`);
    else {
      out(`Added ${name}. Their member token (shown once; only its hash is stored):\n\n  ${token}\n\n`);
      out(memberHint(dir));
    }
  } else if (options.json) out(`${JSON.stringify({ ok: true, member: name, action: verb })}\n`);
  else out(verb === 'revoke' ? `Revoked ${name}: their next request gets 401.\n` : `Budgets of ${name} updated.\n`);
  return 0;
}
