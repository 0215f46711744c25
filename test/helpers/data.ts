// The real data next to the repository (CI clones beside a copy of shared/). Tests that need it
// fail loudly when it is missing rather than skipping.
import { existsSync } from 'node:fs';
import { repoRoot } from './fixtures.ts';

export const sharedData = `${repoRoot}../shared/data`;

export function requireSharedData(): string {
  if (!existsSync(`${sharedData}/README.md`)) throw new Error(`real data not found at ${sharedData} (expected ../shared/data beside the repository)`);
  return sharedData;
}
