/** doctor's `devcontainer`: the editor's devcontainer.json against the version accepted last (ops/devcontainer.ts). */
import { devcontainerCheck as accepted } from '../devcontainer.js';
import type { Check } from './check.js';

export const devcontainerCheck: Check = async ({ project, settings }) =>
  project.exists ? [accepted(project, { devcontainer: settings?.devcontainer === true })] : [];
