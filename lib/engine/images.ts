/** Images on the engine: is one there, and what labels does it carry. Nothing here pulls. */
import { explainDockerError } from './docker.js';
import { run } from './runner.js';

export interface ImageInfo {
  present: boolean;
  labels: Record<string, string>;
}

/** Whether the image exists, with its labels; a stopped daemon throws its own message. */
export async function inspectImage(name: string): Promise<ImageInfo> {
  let stdout: string;
  try {
    stdout = (await run(['docker', 'image', 'inspect', '--format', '{{json .Config.Labels}}', name])).stdout;
  } catch (error) {
    const explained = explainDockerError(error);
    if (explained !== error) throw explained;
    return { present: false, labels: {} };
  }
  return { present: true, labels: (JSON.parse(stdout) as Record<string, string> | null) ?? {} };
}

export async function imageExists(name: string): Promise<boolean> {
  return (await inspectImage(name)).present;
}
