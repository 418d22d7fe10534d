/**
 * What an older cctl wrote into the committed file and now belongs to the
 * per-machine file: the engine-dependent health-check timing, the `${CCTL_UID}`
 * build args, the `${TZ}` and git identity variables, the agent socket's
 * `${CCTL_SSH_AUTH_SOCK}` mount, and the private folder's paths (env_file, the
 * gateway's build folder). The merge takes these renderings as cctl's own, so
 * a file that still holds them is brought to the new form once, as an update
 * the user sees (`Updated services.claude-cli...`), and never as a conflict:
 * without this, a teammate's fresh clone (no baseline yet) of a file written
 * on engine 26 read "the file has 30s, cctl would write 2s" and stopped.
 */
import { CLI_SERVICE } from './locate.js';
import { gatewayService, type Plain, type PlainMap } from './model.js';
import type { Owned } from './merge.js';
import type { Settings } from './settings.js';

const PRIVATE_IN_FILE = '${HOME}/.config/cctl/projects/${COMPOSE_PROJECT_NAME}';

function clone<T extends Plain>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** The older renderings of `ours` (the current committed rendering under `s`), for engines with and without start_interval. */
export function legacyRenderings(ours: Owned, s: Settings, file: PlainMap = {}): Owned[] {
  return [true, false].map((startInterval) => {
    const old = clone(ours as unknown as PlainMap) as unknown as Owned;
    const services = old.services ?? {};
    const cli = services[CLI_SERVICE] as PlainMap | undefined;
    const timing = (service: PlainMap | undefined) => {
      const hc = service?.healthcheck as PlainMap | undefined;
      if (hc && startInterval) Object.assign(hc, { interval: '30s', start_interval: '250ms' });
    };
    if (cli) {
      timing(cli);
      const args = (cli.build as PlainMap).args as PlainMap;
      args.CLAUDE_UID = '${CCTL_UID:-1001}';
      args.CLAUDE_GID = '${CCTL_GID:-1001}';
      const env = cli.environment as PlainMap;
      if (!s.tz) env.TZ = '${TZ:-UTC}';
      for (const role of ['AUTHOR', 'COMMITTER']) {
        env[`GIT_${role}_NAME`] = s['git-name'] || null;
        env[`GIT_${role}_EMAIL`] = s['git-email'] || null;
      }
      if (s['ssh-agent'] !== 'off') {
        env.SSH_AUTH_SOCK = '/run/cctl/ssh-agent.sock';
        (cli.volumes as Plain[]).push('${CCTL_SSH_AUTH_SOCK:-/dev/null}:/run/cctl/ssh-agent.sock');
      }
      if (s.auth === 'team-key' && s.proxy === 'builtin') cli.env_file = [`${PRIVATE_IN_FILE}/client.env`];
    }
    const gateway = s.proxy === 'external' ? undefined : (services[gatewayService(s)] as PlainMap | undefined);
    if (gateway) {
      timing(gateway);
      gateway.env_file = [`${PRIVATE_IN_FILE}/proxy.env`];
      if (s.proxy === 'builtin') {
        // The hash the file holds: it names the cctl version that wrote it, not a user's edit.
        const inFile = (
          ((file.services as PlainMap | undefined)?.[gatewayService(s)] as PlainMap | undefined)?.build as PlainMap | undefined
        )?.args as PlainMap | undefined;
        const hash = inFile?.CCTL_BUILD_HASH ?? ((cli?.build as PlainMap | undefined)?.args as PlainMap | undefined)?.CCTL_BUILD_HASH ?? '';
        gateway.build = { context: `${PRIVATE_IN_FILE}/proxy`, args: { BASE_IMAGE: s['base-image'], CCTL_BUILD_HASH: hash } };
      }
    }
    return old;
  });
}
