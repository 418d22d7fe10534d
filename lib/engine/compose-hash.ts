/**
 * Compose v2's config hash of a service (the `com.docker.compose.config-hash`
 * label it puts on each container, and compares to decide a recreate),
 * computed from the JSON `config --format json` printed, so that what a
 * check read and what `up` then created can be tied together without asking
 * Compose again (which would read the files again).
 *
 * Compose hashes the SHA-256 of Go's `json.Marshal` of the service after
 * clearing the fields that never need a recreate. `config --format json`
 * prints the same marshalling, indented: the same bytes once the whitespace
 * between tokens is gone. So the printed text is walked as it is (key order,
 * number spelling and Go's escapes such as \u003c kept; a JSON.parse round
 * trip would lose them), compacted, and the cleared fields left out. Checked
 * against the labels Compose 2.26.1 puts on containers (env_file resolved
 * into environment, as `config` prints it). Compose 2.26 clears build,
 * pull_policy, scale and deploy.replicas; later versions clear depends_on and
 * profiles too, so both spellings are candidates: either is the checked
 * service with fields removed that do not change what the container runs.
 */
import { createHash } from 'node:crypto';

interface Member {
  /** The key as printed, quotes and escapes included. */
  key: string;
  name: string;
  start: number;
  end: number;
}

const isWs = (c: string | undefined) => c === ' ' || c === '\n' || c === '\r' || c === '\t';

function skipWs(s: string, i: number): number {
  while (isWs(s[i])) i++;
  return i;
}

function stringEnd(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === '"') return j + 1;
  }
  throw new SyntaxError('unterminated string in the printed model');
}

/** The end of the value that starts at i (after whitespace). */
function valueEnd(s: string, i: number): number {
  const c = s[i];
  if (c === '"') return stringEnd(s, i);
  if (c === '{' || c === '[') {
    const close = c === '{' ? '}' : ']';
    let j = skipWs(s, i + 1);
    if (s[j] === close) return j + 1;
    for (;;) {
      if (c === '{') {
        j = skipWs(s, stringEnd(s, j));
        if (s[j] !== ':') throw new SyntaxError('expected ":" in the printed model');
        j = skipWs(s, j + 1);
      }
      j = skipWs(s, valueEnd(s, j));
      if (s[j] === ',') j = skipWs(s, j + 1);
      else if (s[j] === close) return j + 1;
      else throw new SyntaxError(`unexpected "${s[j] ?? 'end'}" in the printed model`);
    }
  }
  const m = /^(?:-?[0-9][0-9.eE+-]*|true|false|null)/.exec(s.slice(i, i + 64));
  if (!m) throw new SyntaxError('unexpected token in the printed model');
  return i + m[0].length;
}

/** The members of the object at i, with each value's span. */
function membersOf(s: string, i: number): Member[] {
  if (s[i] !== '{') throw new SyntaxError('expected an object in the printed model');
  const out: Member[] = [];
  let j = skipWs(s, i + 1);
  if (s[j] === '}') return out;
  for (;;) {
    const keyEnd = stringEnd(s, j);
    const key = s.slice(j, keyEnd);
    const start = skipWs(s, skipWs(s, keyEnd) + 1);
    const end = valueEnd(s, start);
    out.push({ key, name: JSON.parse(key) as string, start, end });
    j = skipWs(s, end);
    if (s[j] === '}') return out;
    j = skipWs(s, j + 1);
  }
}

/** The text without whitespace between tokens: what json.Marshal wrote before the indenting. */
function compact(raw: string): string {
  let out = '';
  for (let i = 0; i < raw.length;) {
    if (raw[i] === '"') {
      const end = stringEnd(raw, i);
      out += raw.slice(i, end);
      i = end;
    } else {
      if (!isWs(raw[i])) out += raw[i];
      i++;
    }
  }
  return out;
}

function objectWithout(s: string, member: Member, drop: ReadonlySet<string>, inner: Readonly<Record<string, ReadonlySet<string>>>): string {
  const parts = membersOf(s, member.start)
    .filter((m) => !drop.has(m.name))
    .map((m) => {
      const nested = inner[m.name];
      const value = nested && s[m.start] === '{' ? objectWithout(s, m, nested, {}) : compact(s.slice(m.start, m.end));
      return `${m.key}:${value}`;
    });
  return `{${parts.join(',')}}`;
}

/** What each Compose version clears before hashing. */
const VARIANTS: ReadonlyArray<ReadonlySet<string>> = [
  new Set(['build', 'pull_policy', 'scale']),
  new Set(['build', 'pull_policy', 'scale', 'depends_on', 'profiles']),
];
const INNER = { deploy: new Set(['replicas']) };

/**
 * The config hashes Compose v2 may label each named service's container with, from the text `config --format
 * json` printed (every candidate is the printed service less fields that change nothing a container runs).
 * A service the model lacks has none. Throws SyntaxError on text that is not a printed model.
 */
export function serviceConfigHashes(printed: string, services: readonly string[]): Record<string, string[]> {
  const top = membersOf(printed, skipWs(printed, 0));
  const all = top.find((m) => m.name === 'services');
  const members = all ? membersOf(printed, all.start) : [];
  const out: Record<string, string[]> = {};
  for (const name of services) {
    const service = members.find((m) => m.name === name);
    if (!service || printed[service.start] !== '{') continue;
    const hashes = VARIANTS.map((drop) =>
      createHash('sha256')
        .update(objectWithout(printed, service, drop, INNER))
        .digest('hex'),
    );
    out[name] = [...new Set(hashes)];
  }
  return out;
}
