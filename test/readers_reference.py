#!/usr/bin/python3
"""Writes the readers' fixtures: test/fixtures/readers.json and small files in test/fixtures/volumes/.

- Every LA case of ../shared/data/la/train.list read with h5py: shapes, sums and sampled voxels.
- Real hippocampus NIfTI files read with nibabel: shape, affine, zooms, sums, sampled voxels.
- Small synthetic NIfTI files (every datatype the readers take, scaling, big-endian, NIfTI-2,
  qform-only and no-orientation headers) written with nibabel, and NRRD files (raw and gzip, both
  byte orders, LA-challenge-style headers) written here with numpy; their expected values come
  from nibabel and numpy. Arrays are compared in voxgrad's order: row-major over (x, y, z).
Run with Debian's python3 (python3-numpy, python3-nibabel, python3-h5py).
"""
import base64, gzip, json, os
import numpy as np
import nibabel as nib
import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', '..', 'shared', 'data')
OUT = os.path.join(HERE, 'fixtures', 'volumes')


def f32(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode()


def samples(a):
    """Voxels at fixed relative positions, as [[x, y, z], value]."""
    s = a.shape
    idx = [(0, 0, 0), (s[0] - 1, s[1] - 1, s[2] - 1), (s[0] // 2, s[1] // 2, s[2] // 2),
           (s[0] // 3, 2 * s[1] // 3, s[2] // 4), (3 * s[0] // 4, s[1] // 5, 4 * s[2] // 5)]
    return [[list(map(int, i)), float(a[i])] for i in idx]


def summary(a):
    a = np.asarray(a, dtype=np.float64)
    return dict(shape=list(a.shape), sum=float(a.sum()), sumsq=float((a * a).sum()), samples=samples(a))


def la_cases():
    with open(os.path.join(DATA, 'la', 'train.list')) as fh:
        ids = [l.strip() for l in fh if l.strip()]
    out = []
    for i in ids:
        with h5py.File(os.path.join(DATA, 'la', 'cases', i, 'mri_norm2.h5'), 'r') as f:
            out.append(dict(id=i, image=summary(f['image'][:]), label=summary(f['label'][:]),
                            dtypes=[str(f['image'].dtype), str(f['label'].dtype)]))
    return out


def hippocampus_cases():
    names = ['hippocampus_001', 'hippocampus_003', 'hippocampus_006', 'hippocampus_243']
    out = []
    for n in names:
        for kind in ('images', 'labels'):
            img = nib.load(os.path.join(DATA, 'hippocampus', kind, n + '.nii.gz'))
            out.append(dict(file=f'hippocampus/{kind}/{n}.nii.gz', dtype=str(img.get_data_dtype()),
                            affine=img.affine.ravel().tolist(), zooms=[float(z) for z in img.header.get_zooms()],
                            **summary(img.get_fdata())))
    return out


def synthetic_nifti():
    rng = np.random.default_rng(1)
    shape = (5, 4, 3)
    rot = np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], float)  # 90° about z
    aff = np.eye(4)
    aff[:3, :3] = rot @ np.diag([0.9, 1.1, 2.5])
    aff[:3, 3] = [-10.5, 20.25, 3.0]
    cases = []

    def add(name, img):
        path = os.path.join(OUT, name)
        nib.save(img, path)
        back = nib.load(path)
        cases.append(dict(file=name, affine=back.affine.ravel().tolist(),
                          zooms=[float(z) for z in back.header.get_zooms()[:3]], data=f32(back.get_fdata())))

    def plain(arr, cls=nib.Nifti1Image):
        return cls(arr, aff, dtype=arr.dtype)

    def with_header(arr, **fields):
        """An image whose header orientation and byte order are kept as given (no affine to override them)."""
        hdr = nib.Nifti1Header(endianness=fields.pop('endianness', '<'))
        hdr.set_data_shape(arr.shape)
        hdr.set_data_dtype(arr.dtype)
        hdr.set_zooms((0.9, 1.1, 2.5))
        hdr.set_qform(aff if fields.get('qform') else None, code=1 if fields.get('qform') else 0)
        hdr.set_sform(aff if fields.get('sform') else None, code=2 if fields.get('sform') else 0)
        return nib.Nifti1Image(arr, None, header=hdr)

    ints = rng.integers(-100, 100, shape)
    add('uint8.nii', plain(rng.integers(0, 255, shape).astype(np.uint8)))
    add('int8.nii.gz', plain(ints.astype(np.int8)))
    # float data stored as int16: nibabel picks scl_slope/scl_inter itself
    add('int16-scaled.nii', nib.Nifti1Image(rng.normal(size=shape) * 1000 + 37, aff, dtype=np.int16))
    add('uint16.nii.gz', plain(rng.integers(0, 60000, shape).astype(np.uint16)))
    add('int32.nii', plain((ints * 100000).astype(np.int32)))
    add('uint32.nii.gz', plain(rng.integers(0, 4e9, shape).astype(np.uint32)))
    add('int64.nii', plain((ints * 10).astype(np.int64)))
    add('float32.nii.gz', plain(rng.normal(size=shape).astype(np.float32)))
    add('float64.nii', plain(rng.normal(size=shape)))
    add('float32-bigendian.nii', with_header(rng.normal(size=shape).astype('>f4'), endianness='>', sform=True))
    add('nifti2-float32.nii.gz', plain(rng.normal(size=shape).astype(np.float32), cls=nib.Nifti2Image))
    add('qform-only.nii.gz', with_header(rng.normal(size=shape).astype(np.float32), qform=True))
    add('no-orientation.nii', with_header(rng.normal(size=shape).astype(np.float32)))
    return cases


def write_nrrd(name, arr, dtype_name, encoding, endian, extra):
    raw = arr.ravel(order='F').tobytes()  # NRRD: first axis fastest
    body = gzip.compress(raw, mtime=0) if encoding == 'gzip' else raw
    lines = ['NRRD0004', '# written by test/readers_reference.py', f'type: {dtype_name}', 'dimension: 3',
             *extra, f'sizes: {" ".join(map(str, arr.shape))}', f'endian: {endian}', f'encoding: {encoding}']
    with open(os.path.join(OUT, name), 'wb') as fh:
        fh.write(('\n'.join(lines) + '\n\n').encode() + body)


def synthetic_nrrd():
    rng = np.random.default_rng(2)
    shape = (6, 5, 4)
    lps = ['space: left-posterior-superior', 'space directions: (0.625,0,0) (0,0.625,0) (0,0,2.5)',
           'kinds: domain domain domain', 'space origin: (-120.5,-98.25,40)']
    cases = []

    def add(name, arr, dtype_name, encoding, endian, extra, affine):
        write_nrrd(name, arr, dtype_name, encoding, endian, extra)
        cases.append(dict(file=name, affine=np.asarray(affine, float).ravel().tolist(), data=f32(arr.astype(np.float64))))

    lps_to_ras = np.diag([-1, -1, 1, 1]) @ np.array([[0.625, 0, 0, -120.5], [0, 0.625, 0, -98.25], [0, 0, 2.5, 40], [0, 0, 0, 1]])
    # laendo.nrrd style: unsigned char mask 0/255, gzip
    add('laendo-like.nrrd', (rng.random(shape) > 0.7).astype(np.uint8) * 255, 'unsigned char', 'gzip', 'little', lps, lps_to_ras)
    # lgemri.nrrd style: unsigned char intensities, gzip
    add('lgemri-like.nrrd', rng.integers(0, 255, shape).astype(np.uint8), 'unsigned char', 'gzip', 'little', lps, lps_to_ras)
    add('int16-raw.nrrd', rng.integers(-3000, 3000, shape).astype('<i2'), 'short', 'raw', 'little', lps, lps_to_ras)
    add('float32-big-raw.nrrd', rng.normal(size=shape).astype('>f4'), 'float', 'raw', 'big',
        ['spacings: 1.5 2 0.5'], np.diag([1.5, 2, 0.5, 1]))
    add('uint16-gzip.nrrd', rng.integers(0, 60000, shape).astype('<u2'), 'uint16', 'gzip', 'little', [], np.eye(4))
    add('double-gzip.nrrd', rng.normal(size=shape), 'double', 'gzip', 'little', lps, lps_to_ras)
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    fixtures = dict(la=la_cases(), hippocampus=hippocampus_cases(), nifti=synthetic_nifti(), nrrd=synthetic_nrrd())
    path = os.path.join(HERE, 'fixtures', 'readers.json')
    with open(path, 'w') as fh:
        json.dump(fixtures, fh, indent=1)
    print(f'wrote {path}: {len(fixtures["la"])} LA cases, {len(fixtures["hippocampus"])} hippocampus files, '
          f'{len(fixtures["nifti"])} NIfTI and {len(fixtures["nrrd"])} NRRD test files in {OUT}')


if __name__ == '__main__':
    main()
