/** Header passes: what crosses the gateway in each direction. */
import type http from 'node:http';

/** RFC 9110 §7.6.1: meaningful for one connection only, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export type Headers = http.IncomingHttpHeaders;

/** Copies headers without the hop-by-hop ones, including any that Connection names. */
export function endToEndHeaders(headers: Headers): Headers {
  const listed = new Set<string>();
  const connection = headers.connection;
  if (connection) {
    for (const token of String(connection).split(',')) listed.add(token.trim().toLowerCase());
  }
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The request headers as they go upstream, before credentials and Host are set. */
export function outgoingRequestHeaders(incoming: Headers): Headers {
  const headers = endToEndHeaders(incoming);
  // Node answers "Expect: 100-continue" itself; passing it on would make the
  // upstream wait for a continue that the gateway never relays.
  delete headers.expect;
  return headers;
}

/** The content codings the response tap can decode (node:zlib), in the order the gateway prefers them. */
export const DECODABLE_ENCODINGS = ['gzip', 'br', 'deflate'] as const;

/**
 * The Accept-Encoding sent upstream: the codings the client accepts that the
 * gateway can also decode, so that the usage in every reply can be read.
 * Anything else the client offers (zstd, say) is left out; with nothing in
 * common the reply comes as identity, which every client takes.
 */
export function upstreamAcceptEncoding(clientValue: string | string[] | undefined): string {
  const offered = new Map<string, number>();
  for (const part of (Array.isArray(clientValue) ? clientValue.join(',') : (clientValue ?? '')).split(',')) {
    const [name, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (!name) continue;
    const q = params.find((p) => p.startsWith('q='));
    offered.set(name === 'x-gzip' ? 'gzip' : name, q ? Number(q.slice(2)) : 1);
  }
  const accepted = DECODABLE_ENCODINGS.filter((coding) => {
    const q = offered.get(coding) ?? offered.get('*');
    return q !== undefined && q > 0;
  });
  return accepted.length ? accepted.join(', ') : 'identity';
}
