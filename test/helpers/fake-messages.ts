/**
 * A fake Anthropic Messages API for end-to-end tests (never the real API): a
 * Node script run in a container of the test's own, on port 8080. It answers
 * POST /v1/messages (SSE when stream is true, JSON otherwise) and
 * count_tokens, and records each request's headers to /rec/requests.jsonl
 * when the test mounts /rec.
 */
export const REPLY = 'Hello from the fake upstream';

export const FAKE_MESSAGES_API = String.raw`
import http from 'node:http';
import { appendFileSync, existsSync } from 'node:fs';
const REPLY = ${JSON.stringify(REPLY)};
const record = (entry) => existsSync('/rec') && appendFileSync('/rec/requests.jsonl', JSON.stringify(entry) + '\n');
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    let body;
    try { body = raw ? JSON.parse(raw) : undefined; } catch { body = undefined; }
    record({ method: req.method, url: req.url, headers: req.headers, stream: body?.stream, model: body?.model });
    const url = new URL(req.url, 'http://x');
    const model = body?.model ?? 'claude-fake';
    const usage = { input_tokens: 7, output_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ input_tokens: 7 }));
    }
    if (req.method === 'POST' && url.pathname === '/v1/messages') {
      const message = { id: 'msg_fake_' + Date.now(), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } };
      if (body?.stream) {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': 'req_fake' });
        const send = (event, data) => res.write('event: ' + event + '\ndata: ' + JSON.stringify({ type: event, ...data }) + '\n\n');
        send('message_start', { message });
        send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
        send('ping', {});
        send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: REPLY } });
        send('content_block_stop', { index: 0 });
        send('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 6 } });
        send('message_stop', {});
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_fake' });
      return res.end(JSON.stringify({ ...message, content: [{ type: 'text', text: REPLY }], stop_reason: 'end_turn', usage }));
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, data: [], has_more: false }));
  });
}).listen(8080, '0.0.0.0', () => console.log('fake upstream on 8080'));
`;
