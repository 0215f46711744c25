// Datasets on disk: a root folder and a case list, in one of two layouts.
//   h5:  <root>/<ID>/mri_norm2.h5 (UA-MT/DTC LA layout) or <root>/<ID>.h5, datasets image + label
//   msd: <root>/imagesTr/<ID> + <root>/labelsTr/<ID>, or images/ + labels/ (NIfTI or NRRD)
// Without a list, <root>/cases.list is used if present, else every case found in the layout.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Volume, FileFormatError } from '../io/volume.ts';
import { parseH5 } from '../io/h5.ts';
import { readBytes, readVolume } from '../io/files.ts';
import { VOLUME_EXTENSIONS } from '../io/parse.ts';
import { readList } from './list.ts';
import type { Normalization } from './normalize.ts';
import { checkedPair, prepareCase, type Case } from './prepare.ts';

export type Layout = 'h5' | 'msd';

export interface DatasetOptions {
  root: string;
  list?: string;
  layout?: Layout;
  /** Default: none for h5 (stored already z-scored), zscore for msd. */
  normalization?: Normalization;
  /** Labels become label > 0 (default true; the hippocampus has two foreground classes). */
  binaryLabels?: boolean;
  /** Voxel size for h5 files, which store none (LA: 0.625 mm). */
  spacing?: [number, number, number];
  /** Integer factor to downsample every case by before normalising (default 1). */
  downsample?: number;
}

export type { Case } from './prepare.ts';

export interface Dataset {
  root: string;
  layout: Layout;
  ids: string[];
  normalization: Normalization;
  /** The case as training sees it: downsampled, normalised, labels binarised if asked. */
  load(id: string): Promise<Case>;
  /** The image and label as stored, at the scan's resolution, for scoring there. */
  read(id: string): Promise<{ image: Volume; label: Volume }>;
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

function msdFolders(root: string): [string, string] | null {
  for (const [img, lab] of [['imagesTr', 'labelsTr'], ['images', 'labels']])
    if (isDir(join(root, img)) && isDir(join(root, lab))) return [join(root, img), join(root, lab)];
  return null;
}

function detectLayout(root: string): Layout {
  if (msdFolders(root)) return 'msd';
  if (readdirSync(root).some((e) => existsSync(join(root, e, 'mri_norm2.h5')) || e.endsWith('.h5'))) return 'h5';
  throw new FileFormatError(root, 'is neither an h5 dataset (<ID>/mri_norm2.h5) nor an MSD one (imagesTr/labelsTr or images/labels)');
}

function h5Path(root: string, id: string): string {
  const nested = join(root, id, 'mri_norm2.h5');
  return existsSync(nested) || !existsSync(join(root, `${id}.h5`)) ? nested : join(root, `${id}.h5`);
}

/** A case ID names a file with or without its extension (cases.list holds "hippocampus_001.nii.gz"). */
function volumePath(dir: string, id: string): string {
  for (const candidate of [id, ...VOLUME_EXTENSIONS.map((ext) => id + ext)])
    if (existsSync(join(dir, candidate)) && !isDir(join(dir, candidate))) return join(dir, candidate);
  return join(dir, id);
}

function discover(root: string, layout: Layout): string[] {
  if (layout === 'h5')
    return readdirSync(root).filter((e) => existsSync(join(root, e, 'mri_norm2.h5')) || e.endsWith('.h5'))
      .map((e) => e.replace(/\.h5$/, '')).sort();
  const [images] = msdFolders(root)!;
  return readdirSync(images).filter((f) => VOLUME_EXTENSIONS.some((ext) => f.endsWith(ext)) && !f.startsWith('.')).sort();
}

export async function openDataset(opts: DatasetOptions): Promise<Dataset> {
  const { root } = opts;
  if (!isDir(root)) throw new FileFormatError(root, 'dataset root is not a folder');
  const layout = opts.layout ?? detectLayout(root);
  const listFile = opts.list ?? (existsSync(join(root, 'cases.list')) ? join(root, 'cases.list') : undefined);
  const ids = listFile ? await readList(listFile) : discover(root, layout);
  if (!ids.length) throw new FileFormatError(root, `no cases found for the ${layout} layout`);
  const normalization = opts.normalization ?? (layout === 'h5' ? 'none' : 'zscore');
  const read = async (id: string): Promise<{ image: Volume; label: Volume }> => {
    if (layout === 'h5') {
      const file = h5Path(root, id);
      const { image, label } = await parseH5(await readBytes(file), file, ['image', 'label'], opts.spacing);
      return checkedPair(image, label);
    }
    const [images, labels] = msdFolders(root) ?? [join(root, 'imagesTr'), join(root, 'labelsTr')];
    return checkedPair(await readVolume(volumePath(images, id)), await readVolume(volumePath(labels, id)));
  };
  const load = async (id: string): Promise<Case> => {
    const { image, label } = await read(id);
    return prepareCase(id, image, label, { normalization, binaryLabels: opts.binaryLabels ?? true, downsample: opts.downsample ?? 1 });
  };
  return { root, layout, ids, normalization, load, read };
}
