/**
 * `task list`'s tokens: ccusage in the task's claude-cli over the transcript
 * lines of the task's branch (ops/task/tokens.ts), read from its JSON.
 */
import test from 'ava';
import { parseTokens, tokensCommand } from '../../lib/ops/task/tokens.js';

test("task tokens: the branch stays an argument of the script; ccusage's totals, none at all, an unreadable answer", (t) => {
  const command = tokensCommand("x'; rm -rf / #");
  t.deepEqual(command.slice(0, 2), ['sh', '-c']);
  t.false(command[2]!.includes('rm -rf /'), 'never quoted into the script');
  t.is(command[4], `"gitBranch":"x'; rm -rf / #"`);
  t.deepEqual(
    parseTokens(
      JSON.stringify({
        daily: [],
        totals: { inputTokens: 7, outputTokens: 6, cacheCreationTokens: 1, cacheReadTokens: 2, totalTokens: 16, totalCost: 0.5 },
      }),
    ),
    {
      input: 7,
      output: 6,
      cacheCreation: 1,
      cacheRead: 2,
      total: 16,
      cost: 0.5,
    },
  );
  t.is(parseTokens('{"daily":[]}')?.total, 0);
  t.is(parseTokens('No Claude usage data found.'), undefined);
});
