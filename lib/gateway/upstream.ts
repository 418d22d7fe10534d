/** Where API requests go: the upstream named by CCTL_UPSTREAM_URL, and the pool of sockets to it. */
import http from 'node:http';
import https from 'node:https';
import { DEFAULTS, type GatewayConfig } from './config.js';

export interface Upstream {
  readonly url: URL;
  readonly agent: http.Agent;
  readonly request: typeof http.request;
  /** host[:port] as it goes in the Host header and in messages. */
  readonly host: string;
  /** Bare hostname for the socket layer (IPv6 literals without brackets). */
  readonly hostname: string;
  readonly port: string;
  /** The upstream URL's path, put in front of every request path. */
  readonly basePath: string;
  /** 'secureConnect' or 'connect': when a fresh socket is ready for the request. */
  readonly readyEvent: 'secureConnect' | 'connect';
}

/**
 * The keep-alive pool towards the upstream. Free sockets are dropped after
 * upstreamKeepAliveMs (2 s by default), well below the 5 s keep-alive that
 * Node servers (and many gateways) use, so the gateway does not reuse a
 * socket the upstream is just closing. Node's own docs call out that race:
 * https://nodejs.org/api/http.html#requestreusedsocket
 */
export function createUpstream(config: GatewayConfig): Upstream {
  const url = config.upstreamUrl;
  const secure = url.protocol === 'https:';
  const keepAliveMs = config.upstreamKeepAliveMs ?? DEFAULTS.upstreamKeepAliveMs;
  const options = {
    keepAlive: keepAliveMs > 0,
    keepAliveMsecs: 1000,
    maxFreeSockets: 256,
    scheduling: 'lifo' as const,
    timeout: keepAliveMs || undefined,
  };
  return {
    url,
    agent: secure ? new https.Agent(options) : new http.Agent(options),
    request: secure ? https.request : http.request,
    host: url.host,
    // URL keeps IPv6 literals in brackets; the socket layer wants them bare.
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (secure ? '443' : '80'),
    basePath: url.pathname.replace(/\/+$/, ''),
    readyEvent: secure ? 'secureConnect' : 'connect',
  };
}
