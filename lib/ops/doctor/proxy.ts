/** doctor's `proxy`: the gateway service runs and its health check passes (an external gateway is not probed). */
import { gatewayService } from '../../project/model.js';
import { brokenServices, inspectServices } from '../stack.js';
import { type Check, fail, needDaemon, pass, stoppedText, warn } from './check.js';

export const proxyCheck: Check = async ({ daemon, project, settings: s }) => {
  if (!s) return [warn('proxy', 'not checked: the compose file could not be read')];
  if (s.proxy === 'external') return [warn('proxy', `external gateway ${s['proxy-url']}; not probed`)];
  if (!daemon) return [needDaemon('proxy')];
  const [p] = await inspectServices(project, [gatewayService(s)]);
  if (!p || p.state === 'missing') return [warn('proxy', 'the proxy is not running', 'Run "cctl up".')];
  if (brokenServices([p]).length && p.state !== 'running') {
    return [fail('proxy', `the proxy ${stoppedText(p)}`, 'See why: "cctl logs proxy". Start it again: "cctl up".')];
  }
  if (p.state !== 'running') return [warn('proxy', `the proxy is ${p.state}`, 'Run "cctl up".')];
  if (p.health === 'healthy')
    return [pass('proxy', `health endpoint answers (${s.proxy === 'builtin' ? 'GET /health' : s['proxy-health']})`)];
  return [fail('proxy', `the proxy is ${p.health}${p.lastHealthOutput ? `: ${p.lastHealthOutput}` : ''}`, 'See "cctl logs proxy".')];
};
