/**
 * What an isolated claude-cli tried to reach, read back from the gateway's
 * log: one JSON line per tunnel and per denial (docs/CONTRACT.md, "Egress log
 * lines"). `cctl egress` turns the denials into the commands that allow them.
 */
import { type Project } from '../project/locate.js';
import { gatewayService } from '../project/model.js';
import { storedSettings } from '../project/compose-file.js';
import { entryFor, hostPort, parseDestination } from '../project/egress.js';
import { readLogs } from '../engine/compose-client.js';
import { projectInvocation } from './compose.js';

/** Why the gateway refused: a host to add (`not-allowed`), or something a name on the allow-list cannot fix (`address`: it resolves to loopback, link-local, metadata or the gateway itself). */
export type DenyReason = 'not-allowed' | 'egress-off' | 'source' | 'bad-target' | 'address';

export interface EgressEvent {
  time: string;
  /** host:port as the client asked for it. */
  destination: string;
  /** What `cctl init --allow` takes to allow it. */
  entry: string;
  allowed: boolean;
  reason?: DenyReason;
  bytesUp: number;
  bytesDown: number;
}

export interface DestinationSummary {
  destination: string;
  count: number;
  firstSeen: string;
  lastSeen: string;
}

export interface DeniedSummary extends DestinationSummary {
  reason: DenyReason;
  /** The command that adds this destination to the allow-list (for `not-allowed` only). */
  allow?: string;
}

export interface AllowedSummary extends DestinationSummary {
  bytesUp: number;
  bytesDown: number;
}

export interface EgressReport {
  denied: DeniedSummary[];
  allowed: AllowedSummary[];
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * One log line, as the gateway writes it or as compose prints it (with a
 * `proxy-1  | ` prefix). Lines that are not egress events give undefined.
 */
export function parseEgressLine(line: string): EgressEvent | undefined {
  const start = line.indexOf('{');
  if (start < 0) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.event !== 'egress' || typeof v.host !== 'string' || (v.decision !== 'allowed' && v.decision !== 'denied')) return undefined;
  const port = typeof v.port === 'number' ? v.port : Number(v.port) || 443;
  // Read with the gateway's own grammar, which also wrote the line's `entry`: the same destination, the same advice.
  const parsed = parseDestination(`${v.host.includes(':') && !v.host.startsWith('[') ? `[${v.host}]` : v.host}:${port}`, 443);
  const destination = parsed ? hostPort(parsed) : `${v.host.toLowerCase()}:${port}`;
  return {
    time: typeof v.time === 'string' ? v.time : '',
    destination,
    entry: parsed ? entryFor(parsed) : destination,
    allowed: v.decision === 'allowed',
    ...(v.decision === 'denied' ? { reason: (typeof v.reason === 'string' ? v.reason : 'not-allowed') as DenyReason } : {}),
    bytesUp: num(v.bytesUp),
    bytesDown: num(v.bytesDown),
  };
}

function summarise<T extends DestinationSummary>(
  events: readonly EgressEvent[],
  make: (e: EgressEvent) => T,
  add: (s: T, e: EgressEvent) => void,
): T[] {
  const byDestination = new Map<string, T>();
  for (const e of events) {
    const key = `${e.destination} ${e.reason ?? ''}`;
    const seen = byDestination.get(key);
    if (!seen) {
      byDestination.set(key, make(e));
      continue;
    }
    seen.count += 1;
    if (e.time && (!seen.firstSeen || e.time < seen.firstSeen)) seen.firstSeen = e.time;
    if (e.time > seen.lastSeen) seen.lastSeen = e.time;
    add(seen, e);
  }
  // Most frequent first: the top of the list is what blocks the most work.
  return [...byDestination.values()].sort((a, b) => b.count - a.count || a.destination.localeCompare(b.destination));
}

/** Denials and tunnels grouped by destination, most frequent first. */
export function summariseEgress(events: readonly EgressEvent[]): EgressReport {
  const base = (e: EgressEvent) => ({ destination: e.destination, count: 1, firstSeen: e.time, lastSeen: e.time });
  return {
    denied: summarise(
      events.filter((e) => !e.allowed),
      (e) => ({ ...base(e), reason: e.reason!, ...(e.reason === 'not-allowed' ? { allow: `cctl init --allow ${e.entry}` } : {}) }),
      () => {},
    ),
    allowed: summarise(
      events.filter((e) => e.allowed),
      (e) => ({ ...base(e), bytesUp: e.bytesUp, bytesDown: e.bytesDown }),
      (s, e) => {
        s.bytesUp += e.bytesUp;
        s.bytesDown += e.bytesDown;
      },
    ),
  };
}

/**
 * The gateway's egress events, from its container's log (through compose, so
 * Compose v1 and v2 both work; their line prefixes are skipped by the parser).
 * The log lives as long as the container: `cctl down` or a recreate clears it.
 */
export async function readEgressEvents(project: Project): Promise<{ events: EgressEvent[]; gatewayLogged: boolean }> {
  const stdout = await readLogs(
    await projectInvocation(project),
    { services: [gatewayService(storedSettings(project))] },
    { timeoutMs: 60_000 },
  );
  // The gateway's first line says it is listening; without it there is no log to read (no container).
  return {
    events: stdout.split('\n').flatMap((line) => parseEgressLine(line) ?? []),
    gatewayLogged: stdout.includes('"event":"listening"'),
  };
}
