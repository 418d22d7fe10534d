/** Drives .ci/bench.sh's run_bench_check (test/unit/ci-bench.test.ts, test/bench/engine-free.test.ts). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** run_bench_check on COMMAND (a bash command line): its RESULTS line and the resulting overall. */
export function benchCheck(command: string, cwd = ROOT) {
  const state = mkdtempSync(join(tmpdir(), 'cctl-ci-bench-'));
  try {
    const r = spawnSync(
      'bash',
      [
        '-c',
        `source '${join(ROOT, '.ci', 'bench.sh')}'\nRESULTS=(); overall=0\nrun_bench_check ${command} >/dev/null\nprintf '%s\\n' "\${RESULTS[@]}"; exit "$overall"`,
      ],
      { cwd, encoding: 'utf8', env: { ...process.env, CCTL_STATE_DIR: state }, timeout: 600_000 },
    );
    return { overall: r.status, line: r.stdout.trim(), stderr: r.stderr };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}
