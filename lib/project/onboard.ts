/**
 * The team onboarding script: `cctl init` writes it to scripts/onboard.sh,
 * the team commits it, and a new member runs it once after cloning. It is
 * POSIX sh (no bash on some hosts, and the team must not need cctl to start).
 *
 * The template is templates/onboard.sh (shipped with the package; not in
 * docker/, because everything there is copied into the image's build
 * context), checked by shellcheck as it is and as rendered. It pins the cctl
 * version that wrote it, so upgrading cctl and re-running init moves the pin.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readInside, writeInside } from '../kernel/fs.js';
import { formatNextSteps, nextSteps, type NextStep } from './next-steps.js';
import { defaults, type Settings } from './settings.js';

export const ONBOARD_SCRIPT = join('scripts', 'onboard.sh');

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// The template, a plain POSIX sh file that shellcheck reads as it is (test/unit/onboard.test.ts). Its
// placeholders are shell words: __CCTL_VERSION__, __CCTL_SOURCE__, __CCTL_SOURCE_SHOWN__, and the line
// __NEXT_STEPS__ inside the closing here-document, which becomes the project's next steps.
const TEMPLATE_FILE = new URL('../../templates/onboard.sh', import.meta.url);

/** The script's text for a given cctl version (the installed one by default) and the project's next steps. */
export function onboardScript(version: string = pkg.version, steps: readonly NextStep[] = nextSteps(defaults()), source = ''): string {
  // The source passed checkCctlSource (no quote, space or $), so single quotes hold it.
  return readFileSync(TEMPLATE_FILE, 'utf8')
    .replaceAll('__CCTL_VERSION__', version)
    .replace('__CCTL_SOURCE_SHOWN__', source || 'none named')
    .replace('__CCTL_SOURCE__', source)
    .replace('__NEXT_STEPS__\n', formatNextSteps(steps));
}

/**
 * Writes scripts/onboard.sh (mode 0755) when it is missing or differs from the
 * current template; returns its path relative to the project, or undefined
 * when it was already current (so a second init changes nothing).
 */
export function writeOnboardScript(
  projectDir: string,
  settings: Pick<Settings, 'monitor' | 'auth'> & Partial<Pick<Settings, 'cctl-source'>> = defaults(),
): string | undefined {
  const file = join(projectDir, ONBOARD_SCRIPT);
  const text = onboardScript(pkg.version, nextSteps(settings), settings['cctl-source'] ?? '');
  if (readInside(projectDir, file)?.toString('utf8') === text) return undefined;
  writeInside(projectDir, file, text, { mode: 0o755 });
  return ONBOARD_SCRIPT;
}
