// Case lists: one ID per line (UA-MT's train.list / test.list, MSD-style cases.list). IDs may
// contain spaces; blank lines, Windows line ends and anything after a comma (SSL4MIS's BraTS
// lists) are dropped.
import { readFile } from 'node:fs/promises';
import { FileFormatError } from '../io/volume.ts';

export function parseList(text: string): string[] {
  return text.split(/\r?\n/).map((line) => line.split(',')[0].trim()).filter((id) => id.length > 0);
}

export async function readList(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new FileFormatError(path, `case list cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const ids = parseList(text);
  if (!ids.length) throw new FileFormatError(path, 'case list has no IDs');
  return ids;
}
