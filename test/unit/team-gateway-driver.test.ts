/**
 * The team gateway's build context carries the Postgres driver where the
 * compiled gateway finds it: laid out exactly as `cctl gateway init` writes
 * .cctl/proxy/, in a folder outside this repository (so nothing resolves to
 * cctl's own node_modules), the gateway's store opens a real Postgres under
 * Node 22. The local gateway's build context has no driver.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syncAssets, wantedAssets } from '../../lib/project/assets.js';
import { gatewayAssets } from '../../lib/ops/team-gateway.js';
import { startPostgres } from '../helpers/postgres.js';
import { node22 } from '../gateway/team-fixtures.js';

test('the compiled gateway in the build context opens Postgres with the driver it carries', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cctl-driver-'));
  const pg = await startPostgres();
  t.teardown(() => {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  syncAssets(dir, gatewayAssets(dir));
  const gateway = join(dir, '.cctl', 'proxy', 'gateway');
  t.true(existsSync(join(gateway, 'node_modules', 'postgres', 'src', 'index.js')));
  const url = await pg.database();
  const script = `const { openBackend } = await import(${JSON.stringify(join(gateway, 'team', 'open-backend.js'))});
    const b = await openBackend(${JSON.stringify(url)}); process.stdout.write(String(await b.schemaVersion())); await b.close();`;
  // The build context's own package.json says "type": "module" in the image; here the script says it.
  const run = spawnSync(node22(), ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /^\d+$/);
  t.false(
    [...wantedAssets(undefined).keys()].some((k) => k.includes('node_modules')),
    'the local gateway carries no driver',
  );
});
