/**
 * Checks init runs besides the trust check (trust-check.ts): service-name
 * clashes (a service of the user's own that happens to have the name cctl
 * wants), and, just before Compose reads the file, that it is still the one
 * that was checked.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { readUtf8 } from '../kernel/fs.js';
import type { Document } from 'yaml';
import { CctlError } from '../kernel/errors.js';
import { CLI_SERVICE, type Project } from '../project/locate.js';
import type { PlainMap } from '../project/model.js';
import { MAX_ALIASES, type Owned } from '../project/merge.js';

const isMap = (v: unknown): v is PlainMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Does this service look like one cctl wrote (its image, build folder or secret files)? */
function looksCctlMade(service: unknown): boolean {
  if (!isMap(service)) return false;
  const image = typeof service.image === 'string' ? service.image : '';
  const build = isMap(service.build) ? service.build.context : service.build;
  const envFiles = ([] as unknown[]).concat(service.env_file ?? []).map(String);
  return (
    /^cctl-.+:local$/.test(image) ||
    (typeof build === 'string' && /^\.?\/?\.cctl\//.test(build)) ||
    envFiles.some((f) => /(^|\/)(proxy|client)\.env$/.test(f))
  );
}

/**
 * Services cctl would write whose name the user's file already uses for a
 * service cctl never created. Those are the user's: never replaced, not even
 * with --force.
 */
export function serviceClashes(doc: Document.Parsed | undefined, ours: Owned, base: Owned | undefined): string[] {
  const services = doc?.toJS({ maxAliasCount: MAX_ALIASES })?.services as PlainMap | undefined;
  if (!isMap(services)) return [];
  return Object.keys(ours.services ?? {}).filter((name) => {
    const theirs = services[name];
    if (theirs === undefined || theirs === null) return false;
    if (base?.services?.[name] !== undefined || looksCctlMade(theirs)) return false;
    return !isDeepStrictEqual(theirs, ours.services![name]);
  });
}

export function refuseClash(project: Project, names: string[]): CctlError {
  const gateway = names.some((n) => n !== CLI_SERVICE);
  return new CctlError(
    `${project.file} already has a service named ${names.map((n) => `"${n}"`).join(' and ')} that cctl did not create. ` +
      'It is yours: cctl never changes or replaces a service it did not create.',
    {
      hint: gateway
        ? "Give cctl's gateway another name: cctl init --set proxy-service=cctl-proxy (ANTHROPIC_BASE_URL, depends_on and the commands follow it)."
        : 'Rename your service: cctl needs the name claude-cli for its own.',
    },
  );
}

export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A build can take minutes, and claude-cli runs all the while: the file Compose
 * is about to read must still be the one init checked and wrote.
 */
export function assertFileUnchanged(project: Project, digest: string): void {
  let now = '';
  try {
    now = textDigest(readUtf8(project.file));
  } catch {
    // Unreadable now: not what init wrote either.
  }
  if (now !== digest) {
    throw new CctlError(`${project.file} changed while cctl up was running (after it was checked), so nothing was started.`, {
      hint: 'Anything in claude-cli can edit the file. Look at the change (git diff), then run "cctl up" again.',
    });
  }
}
