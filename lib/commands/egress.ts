/**
 * `cctl egress`: the destinations the gateway refused to an isolated
 * claude-cli, with counts and the command that allows each, so that an
 * allow-list is built from what the work actually needed.
 */
import type { OptionsFor } from './declarations/verbs.js';
import { UsageError } from '../kernel/errors.js';
import { locateProject } from '../project/locate.js';
import { storedSettings } from '../project/compose-file.js';
import { expandAllow } from '../project/egress.js';
import { readEgressEvents, summariseEgress, type DenyReason } from '../ops/egress.js';
import { formatTable } from '../ui/table.js';

const indent = (table: string) => table.replace(/^(?=.)/gm, '  ');

const WHY: Record<DenyReason, string> = {
  'not-allowed': 'not on the allow-list',
  'egress-off': 'the gateway had egress off (isolate off when it started): cctl init --isolate && cctl up',
  source: "the client was not on the stack's networks",
  'bad-target': 'a malformed destination',
  address:
    'the name resolves to loopback, link-local, a metadata address or the gateway itself (only an entry naming the address reaches it)',
};

export default async function egress(_args: string[], options: OptionsFor<'egress'>): Promise<number> {
  const project = locateProject(options);
  const settings = storedSettings(project);
  if (settings.proxy !== 'builtin') {
    throw new UsageError(`cctl egress reads the built-in gateway's log, and this project uses proxy=${settings.proxy}.`);
  }
  const { events, gatewayLogged } = await readEgressEvents(project);
  const report = summariseEgress(events);
  if (options.json) {
    const allowList = settings.isolate ? expandAllow(settings.allow) : [];
    process.stdout.write(
      `${JSON.stringify({ project: project.name, isolate: settings.isolate, allow: settings.allow, allowList, gatewayLogged, ...report }, null, 2)}\n`,
    );
    return 0;
  }
  const out = (line = '') => process.stdout.write(`${line}\n`);
  if (!settings.isolate) {
    out('Isolation is off: claude-cli reaches the network directly and the allow-list does not apply.');
    out('Turn it on with "cctl init --isolate", then "cctl up".');
  }
  const toAdd = report.denied.filter((d) => d.allow);
  const other = report.denied.filter((d) => !d.allow);
  if (!gatewayLogged) out('The proxy has no log: its container is not there (cctl status; cctl up starts it).');
  else if (report.denied.length === 0) {
    out(`No denied destinations in the proxy's log${report.allowed.length ? ` (${report.allowed.length} allowed)` : ''}.`);
  }
  if (toAdd.length) {
    out('Denied destinations (from the proxy log, since its container started):');
    process.stdout.write(
      indent(
        formatTable([
          ['COUNT', 'DESTINATION', 'LAST SEEN', 'ALLOW WITH'],
          ...toAdd.map((d) => [String(d.count), d.destination, d.lastSeen || '-', d.allow!]),
        ]),
      ),
    );
    out('Each "cctl init --allow" adds to x-cctl.allow in the compose file; "cctl up" applies it.');
  }
  if (other.length) {
    out('Refused for other reasons (the allow-list does not change these):');
    process.stdout.write(
      indent(
        formatTable([
          ['COUNT', 'DESTINATION', 'LAST SEEN', 'WHY'],
          ...other.map((d) => [String(d.count), d.destination, d.lastSeen || '-', WHY[d.reason]]),
        ]),
      ),
    );
  }
  if (options.all && report.allowed.length) {
    out('Allowed destinations:');
    process.stdout.write(
      indent(
        formatTable([
          ['COUNT', 'DESTINATION', 'SENT', 'RECEIVED'],
          ...report.allowed.map((a) => [String(a.count), a.destination, `${a.bytesUp} B`, `${a.bytesDown} B`]),
        ]),
      ),
    );
  }
  return 0;
}
