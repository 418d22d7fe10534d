/**
 * Requests Node's parser rejects: each gets the status that says why, 431 for
 * headers too large and 408 for headers that never finish, 400 otherwise,
 * and each leaves a JSON log line.
 */
import test from 'ava';
import { rawExchange, startGateway, startUpstream, waitFor } from './fixtures.js';

type EventLine = { event?: string; status?: number; code?: string };

test('oversized request headers get 431 and a log line', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const answer = await rawExchange(port, `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.regex(answer, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  t.regex(answer, /"type":"invalid_request_error"/);
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.like(logs[0] as EventLine, { event: 'client-error', status: 431, code: 'HPE_HEADER_OVERFLOW' });
  t.is(upstream.seen.length, 0);
});

test('headers that do not finish within the headers timeout get 408 and a log line', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url, { headersTimeoutMs: 200 });
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  const answer = await rawExchange(port, 'POST /v1/messages HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 3000 });
  t.regex(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.like(logs[0] as EventLine, { event: 'client-error', status: 408 });
});

test('a malformed request gets 400 and a log line', async (t) => {
  const upstream = await startUpstream();
  const { gateway, port, logs } = await startGateway(upstream.url);
  t.teardown(() => Promise.all([gateway.close(), upstream.close()]));

  t.regex(await rawExchange(port, 'THIS IS NOT HTTP\r\n\r\n', { end: true }), /^HTTP\/1\.1 400 Bad Request\r\n/);
  await waitFor(() => logs.length === 1, 2000, 'the log line');
  t.like(logs[0] as EventLine, { event: 'client-error', status: 400 });
});
