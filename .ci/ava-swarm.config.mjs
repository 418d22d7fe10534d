// The Swarm end-to-end test alone ("npm run test:swarm"): the default ava run
// leaves it out (package.json), because a swarm changes the engine's networks
// (ingress, docker_gwbridge) under the other files; .ci/run runs it last in
// phase 1 and leaves the swarm afterwards.
export default {
  files: ['test/e2e/team-swarm.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  workerThreads: false,
  timeout: '20m',
};
