/** Headless Chromium (Debian's `chromium`) for the dashboard tests: one run, its stdout and its console lines. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CCTL_CHROMIUM ?? '/usr/bin/chromium';

/** One headless Chromium run; returns what it printed on stdout and its console lines. */
export function chromium(url: string, extra: string[]): { stdout: string; console: string[] } {
  const profile = mkdtempSync(join(tmpdir(), 'cctl-chromium-'));
  try {
    const result = spawnSync(
      CHROMIUM,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${profile}`,
        '--enable-logging=stderr',
        '--v=0',
        // Virtual time runs until the page's fetches have settled (bounded at 10 s), then the DOM is read.
        '--virtual-time-budget=10000',
        ...(extra.some((e) => e.startsWith('--window-size')) ? [] : ['--window-size=1200,2200']),
        ...extra,
        url,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 32 * 1024 * 1024 },
    );
    if (result.status !== 0) throw new Error(`chromium exited with ${result.status}: ${result.stderr.slice(-2000)}`);
    return { stdout: result.stdout, console: result.stderr.split('\n').filter((l) => l.includes(':CONSOLE')) };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
