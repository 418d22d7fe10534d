/**
 * Checks for setting values that reach Compose or a shell. Every string
 * setting is written into the compose file, where Compose interpolates `$`
 * (even under x-cctl), and some are spliced into a health check's shell
 * command, so a value is refused here rather than escaped late. Each check
 * returns what the value must be, or undefined when it is fine.
 */

/** Any string setting: no `$` (Compose would interpolate it) and no control characters. */
export function checkComposeText(value: string): string | undefined {
  if (value.includes('$')) return 'free of "$" (Compose reads ${...} in the file as a variable)';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'free of control characters (newlines, tabs)';
  return undefined;
}

/** A URL path the health check may put in single quotes: no quote, space or shell syntax. */
export function checkHealthPath(value: string): string | undefined {
  return /^\/[A-Za-z0-9._~\/%=+,:@-]*(\?[A-Za-z0-9._~\/%=+,:@&-]*)?$/.test(value)
    ? undefined
    : 'a URL path such as /health (letters, digits and ._~/%=+,:@-, an optional ?query)';
}

/** An IANA time zone, or empty for the host's. */
export function checkTimeZone(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return /^[A-Za-z0-9_+\/-]+$/.test(value) ? undefined : 'an IANA time zone such as Europe/Berlin';
  } catch {
    return 'an IANA time zone such as Europe/Berlin (or empty for the host time zone)';
  }
}

export function checkCpus(value: string): string | undefined {
  return value === '' || (/^\d+(\.\d+)?$/.test(value) && Number(value) > 0)
    ? undefined
    : 'a number of CPUs above 0, such as 2 or 1.5 (or empty for no limit)';
}

export function checkMemory(value: string): string | undefined {
  return value === '' || /^[1-9]\d*(\.\d+)?\s*([bkmg]|[kmg]b)?$/i.test(value)
    ? undefined
    : 'a size such as 4g, 512m or 2gb (or empty for no limit)';
}

/** A Compose service name that is not claude-cli's. */
export function checkServiceName(value: string): string | undefined {
  if (value === 'claude-cli') return 'another name than claude-cli';
  return /^[a-z0-9][a-z0-9_.-]*$/.test(value) ? undefined : 'a service name (lower-case letters, digits, and _ . -)';
}

/**
 * Where the onboarding script may fetch cctl from, named by the team: a scoped
 * npm package (a scope is owned by someone), a git URL, or an https tarball.
 * An unscoped name is refused: whoever claims it on the registry would run
 * their code on every new team member's machine.
 */
export function checkCctlSource(value: string): string | undefined {
  if (value === '') return undefined;
  const scoped = /^@[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(@[A-Za-z0-9._^~<>=-]+)?$/;
  const git = /^git\+(https|ssh):\/\/[^\s'"\\]+$/;
  const tarball = /^https:\/\/[^\s'"\\]+\.tgz$/;
  return scoped.test(value) || git.test(value) || tarball.test(value)
    ? undefined
    : 'a scoped npm package (@team/cctl@1.2.3), a git URL (git+https://... or git+ssh://...) or an https .tgz URL; an unscoped name is not accepted';
}

/** The workspace folder: also no ":" (the volume syntax's separator). */
export function checkWorkspace(value: string): string | undefined {
  if (value === '') return 'a folder, such as "." for the project folder';
  return value.includes(':') ? 'a path without ":" (Compose splits volumes at it)' : undefined;
}
