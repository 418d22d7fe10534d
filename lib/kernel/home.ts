/**
 * The user's home folder, as os.homedir() finds it ($HOME, else the password
 * database), with node:os loaded only when HOME is unset: the pass-through
 * verbs (bin/cctl.js's hot path) need the home for cctl's cache and private
 * folders on every call, and loading a module they need for nothing else is
 * start-up time that `cctl usage daily` pays over the raw compose exec.
 */
export function homeDir(): string {
  return process.env.HOME || process.getBuiltinModule('node:os').homedir();
}
