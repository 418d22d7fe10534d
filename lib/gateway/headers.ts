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
