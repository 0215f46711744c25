#!/usr/bin/python3
"""Writes test/fixtures/metrics.json: medpy's binary metrics on real hippocampus and LA label pairs.

medpy is not installed; this is its definition (medpy.metric.binary 0.5.2) on scipy:
surface = X ^ binary_erosion(X, 6-connected cross), d(A->B) = EDT(~surface(B), sampling)[surface(A)],
hd95 = percentile(hstack(d(A->B), d(B->A)), 95), asd = mean d(A->B), assd = mean of both pooled.
Masks are stored bit-packed (row-major over nibabel's (x, y, z) index order), zlib, base64.
Run with Debian's python3 (python3-scipy, python3-nibabel, python3-h5py, python3-skimage).
"""
import base64, json, os, zlib
import numpy as np
import nibabel as nib
import h5py
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure
from skimage.measure import label as cc_label

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'shared', 'data')
HIPPO = os.path.join(DATA, 'hippocampus', 'labels')


def surface_distances(result, reference, spacing):
    fp = generate_binary_structure(3, 1)
    rb = result ^ binary_erosion(result, structure=fp, iterations=1)
    fb = reference ^ binary_erosion(reference, structure=fp, iterations=1)
    return distance_transform_edt(~fb, sampling=spacing)[rb]


def metrics(result, reference, spacing=None):
    result, reference = result.astype(bool), reference.astype(bool)
    inter = np.count_nonzero(result & reference)
    d1 = surface_distances(result, reference, spacing)
    d2 = surface_distances(reference, result, spacing)
    return {
        'dice': 2.0 * inter / (np.count_nonzero(result) + np.count_nonzero(reference)),
        'jaccard': inter / np.count_nonzero(result | reference),
        'hd95': float(np.percentile(np.hstack((d1, d2)), 95)),
        'asd': float(d1.mean()),
        'assd': float(np.concatenate([d1, d2]).mean()),
    }


def pack(mask):
    bits = np.packbits(np.ascontiguousarray(mask, dtype=np.uint8).ravel(), bitorder='little')
    return base64.b64encode(zlib.compress(bits.tobytes(), 9)).decode()


def hippo(n):
    return np.asarray(nib.load(os.path.join(HIPPO, f'hippocampus_{n:03d}.nii.gz')).dataobj)


def shift(mask, d):
    """Moves the mask by d voxels, filling with background (no wrap-around)."""
    out = np.zeros_like(mask)
    src = tuple(slice(max(0, -k), s - max(0, k)) for k, s in zip(d, mask.shape))
    dst = tuple(slice(max(0, k), s - max(0, -k)) for k, s in zip(d, mask.shape))
    out[dst] = mask[src]
    return out


def fit(mask, shape):
    """Crops or zero-pads (at the end) another case's label to this shape."""
    out = np.zeros(shape, mask.dtype)
    s = tuple(slice(0, min(a, b)) for a, b in zip(shape, mask.shape))
    out[s] = mask[s]
    return out


def main():
    cross = generate_binary_structure(3, 1)
    a, b = hippo(1) > 0, hippo(3) > 0
    c = hippo(6)
    edge = (hippo(11) > 0)[8:, :, :]  # cut through the object so it touches the array border
    pairs = [
        ('001 vs its 6-connected erosion', a, binary_erosion(a, cross), None),
        ('001 vs itself shifted (2,-1,1)', a, shift(a, (2, -1, 1)), None),
        ('001 vs 003 fitted to its shape', a, fit(b, a.shape), None),
        ('001 vs 003, spacing (1.5,0.8,2.0)', a, fit(b, a.shape), (1.5, 0.8, 2.0)),
        ('006 anterior (1) vs posterior (2)', c == 1, c == 2, None),
        ('011 cut at the array edge vs shift (0,1,-1), spacing (1,1,2.5)', edge, shift(edge, (0, 1, -1)), (1.0, 1.0, 2.5)),
    ]
    cases = [dict(name=n, shape=list(r.shape), spacing=list(s) if s else None, result=pack(r), reference=pack(f),
                  **metrics(r, f, s)) for n, r, f, s in pairs]

    with open(os.path.join(DATA, 'la', 'train.list')) as fh:
        la_id = fh.readline().strip()
    with h5py.File(os.path.join(DATA, 'la', 'cases', la_id, 'mri_norm2.h5'), 'r') as f:
        la = f['label'][:] > 0
    la_pairs = [dict(id=la_id, shift=[3, 0, -2], spacing=[0.625] * 3, **metrics(shift(la, (3, 0, -2)), la, (0.625,) * 3)),
                dict(id=la_id, shift=[-4, 5, 1], spacing=None, **metrics(shift(la, (-4, 5, 1)), la))]

    rng = np.random.default_rng(0)
    noisy = (hippo(1) > 0) | (rng.random(a.shape) > 0.995)
    lab = cc_label(noisy)  # default connectivity = ndim: 26-connected in 3-D
    largest = lab == np.argmax(np.bincount(lab.ravel())[1:]) + 1
    lcc = [dict(name='001 with random specks', shape=list(a.shape), mask=pack(noisy), expected=pack(largest),
                components=int(lab.max()))]

    # Whole files for the CLI test: two bundled demo labels of the same shape.
    demo = os.path.join(HERE, '..', 'data', 'hippocampus', 'labels')
    pred, ref = (np.asarray(nib.load(os.path.join(demo, f'hippocampus_{n}.nii.gz')).dataobj) > 0 for n in ('023', '001'))
    cli = [dict(pred='data/hippocampus/labels/hippocampus_023.nii.gz', label='data/hippocampus/labels/hippocampus_001.nii.gz',
                spacing=s, **metrics(pred, ref, s)) for s in (None, [0.7, 1.2, 2.0])]

    out = os.path.join(HERE, 'fixtures', 'metrics.json')
    with open(out, 'w') as fh:
        json.dump(dict(cases=cases, la=la_pairs, lcc=lcc, cli=cli), fh, indent=1)
    print(f'wrote {out}: {len(cases)} hippocampus pairs, {len(la_pairs)} LA pairs, {len(lcc)} LCC case')


if __name__ == '__main__':
    main()
