/**
 * The request passes, each on its own: route, authenticate, limit, the
 * request body keeper, and the resend decision of the forward pass.
 */
import test from 'ava';
import type http from 'node:http';
import { authenticate } from '../../lib/gateway/authenticate.js';
import type { GatewayConfig } from '../../lib/gateway/config.js';
import { mayResend, type FailedAttempt } from '../../lib/gateway/forward.js';
import { declaredTooLarge } from '../../lib/gateway/limit.js';
import { REQUEST_KEEP_LIMIT, RequestBody } from '../../lib/gateway/request-body.js';
import { routeOf } from '../../lib/gateway/route.js';

const request = (method: string, url: string) => ({ method, url }) as http.IncomingMessage;

test('route: /health by method, the Messages API by method and exact path, and 404 for the rest however the path is spelled', (t) => {
  t.is(routeOf(request('GET', '/health')).kind, 'health');
  t.is(routeOf(request('HEAD', '/health?x=1')).kind, 'health');
  t.is(routeOf(request('POST', '/health')).kind, 'health-method');
  t.like(routeOf(request('POST', '/v1/messages?beta=true')), { kind: 'api', billed: true });
  t.like(routeOf(request('POST', '/v1/messages/count_tokens?beta=true')), { kind: 'api', billed: false });
  for (const [method, url] of [
    ['POST', '/v1'],
    ['GET', '/v1/messages'],
    ['POST', '/v1/messages/batches'],
    ['GET', '/v1/files'],
    ['GET', '/v1/models'],
    ['POST', '/v1/messages/'],
    ['POST', '/v1//messages'],
    ['POST', '/v1/messages%2Fbatches'],
    ['POST', '/v1/x/../messages/batches'],
    ['POST', '/V1/messages'],
  ]) {
    t.is(routeOf(request(method!, url!)).kind, url === '/V1/messages' ? 'not-found' : 'api-refused', `${method} ${url}`);
  }
  for (const url of ['/', '/v2/messages', '/v1x', '/v1/../admin', '/v1/%2e%2e/admin', '//evil/v2']) {
    t.is(routeOf(request('GET', url)).kind, 'not-found', url);
  }
  t.is(routeOf(request('GET', '/v1/../admin')).target.pathname, '/admin');
});

const teamConfig = {
  authMode: 'team-key',
  clientToken: 'client-token',
  teamCredential: { kind: 'api-key', value: 'sk-team' },
} as GatewayConfig;

test('authenticate: the client token is swapped for the team key; anything else is refused with a reason', (t) => {
  const outgoing: http.IncomingHttpHeaders = { authorization: 'Bearer client-token', 'x-other': '1' };
  t.is(authenticate(teamConfig, { ...outgoing }, outgoing), undefined);
  t.deepEqual(outgoing, { 'x-api-key': 'sk-team', 'x-other': '1' });

  const bearerTeam = { ...teamConfig, teamCredential: { kind: 'auth-token', value: 'oauth-team' } } as GatewayConfig;
  const viaApiKey: http.IncomingHttpHeaders = { 'x-api-key': 'client-token' };
  t.is(authenticate(bearerTeam, { ...viaApiKey }, viaApiKey), undefined);
  t.deepEqual(viaApiKey, { authorization: 'Bearer oauth-team' });

  const wrong = authenticate(teamConfig, { authorization: 'Bearer nope' }, {});
  t.like(wrong, { reason: 'client token rejected', failure: { status: 401, type: 'authentication_error' } });
  t.like(authenticate(teamConfig, {}, {}), { reason: 'no client credential', failure: { status: 401 } });
});

test('authenticate: login mode passes the client credentials through untouched', (t) => {
  const outgoing: http.IncomingHttpHeaders = { authorization: 'Bearer user-oauth' };
  t.is(authenticate({ authMode: 'login' } as GatewayConfig, { ...outgoing }, outgoing), undefined);
  t.deepEqual(outgoing, { authorization: 'Bearer user-oauth' });
});

test('limit: a declared body over the limit is refused before it is read', (t) => {
  t.is(declaredTooLarge({ 'content-length': '100' }, 100), undefined);
  t.is(declaredTooLarge({}, 100), undefined);
  t.like(declaredTooLarge({ 'content-length': '101' }, 100), { failure: { status: 413, type: 'request_too_large' } });
});

test('request body: counts every byte, keeps a small body whole, and only the head of a large one', (t) => {
  const small = new RequestBody();
  small.take(Buffer.from('{"model":"claude-a",'));
  small.take(Buffer.from('"messages":[]}'));
  t.is(small.bytes, 34);
  t.true(small.resendable);
  t.is(small.received().toString(), '{"model":"claude-a","messages":[]}');
  t.is(small.model(true), 'claude-a');

  const large = new RequestBody();
  large.take(Buffer.from('{"model":"claude-b","pad":"'));
  large.take(Buffer.alloc(REQUEST_KEEP_LIMIT, 'p'));
  t.false(large.resendable);
  t.is(large.bytes, 27 + REQUEST_KEEP_LIMIT);
  t.true(large.received().length <= 4096);
  t.is(large.model(true), 'claude-b', 'from the first key of the head');
});

const failedAttempt = (over: Partial<FailedAttempt> = {}): FailedAttempt => ({
  attempts: 1,
  reusedSocket: true,
  bytesWritten: 0,
  responseStarted: false,
  bodyKept: true,
  ...over,
});

test('resend decision: only a first attempt on a pooled socket that carried no byte of it, with the body at hand', (t) => {
  t.true(mayResend(failedAttempt()));
  t.false(mayResend(failedAttempt({ attempts: 2 })), 'never a second resend');
  t.false(mayResend(failedAttempt({ reusedSocket: false })), 'a fresh socket means the upstream is really failing');
  t.false(mayResend(failedAttempt({ responseStarted: true })));
  t.false(mayResend(failedAttempt({ bodyKept: false })));
  t.false(mayResend(failedAttempt({ bytesWritten: 1 })), 'the upstream may have read the request');
  t.false(mayResend(failedAttempt({ bytesWritten: undefined })), 'unknown counts as written');
});
