/**
 * Hostile workspace, class 3: what Compose reads besides cctl's keys, written from inside claude-cli
 * (issue 19): `.env` interpolation into the fields cctl renders, the project's identity (its name, its
 * compose file, a nearer file in a subfolder), network names from `.env`, and cctl's own settings in
 * x-cctl (the gateway's upstream and allow-list). The project is isolated (--isolate): claude-cli's only
 * way out is the gateway, and the team's own service `web` runs beside it.
 *
 * Attack first, on main f18142e: the x-cctl cases (upstream, allow-list) were stopped and landed; isolate: false
 * is refused on ebfc369 by Compose ("networks must be a mapping") without naming the change: on branch corpus.
 * On branch `corpus` until the defences land: .env CCTL_SSH_AUTH_SOCK=$HOME (gets through), a user service
 * joining claude-internal via a name from .env (not refused), and six cases strengthened after a first run
 * (project name, COMPOSE_FILE, compose.override.yaml, network rename, subfolder file, shadowed variables).
 */
import { e2e } from '../../helpers/e2e.js';
import { hostileSuite, type Edit } from '../../helpers/hostile.js';

const FILE = 'compose.yaml';
const settings = (key: string, value: string): Edit => ({ set: FILE, path: ['x-cctl', key], value });

hostileSuite(e2e, { prefix: 'ident', isolate: true, startWeb: true }, [
  {
    title: "x-cctl's upstream pointed at the attacker (the gateway sends the key there)",
    v1: true,
    edits: () => [settings('upstream', 'https://attacker.example')],
    names: /upstream|attacker\.example/,
  },
  {
    title: "x-cctl's egress allow-list opened to every host",
    v1: true,
    edits: () => [settings('allow', '[anthropic, "*"]')],
    names: /\ballow\b/,
  },
]);
