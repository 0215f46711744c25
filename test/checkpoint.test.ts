// Safetensors checkpoints: the byte format, bitwise save/load round trips, training extras,
// strictness (errors name the file and the tensor) and atomic writes.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as vg from '../index.ts';

const dir = mkdtempSync(join(tmpdir(), 'voxgrad-ckpt-'));
const small = (seed: number) => new vg.nn.VNet({ nChannels: 1, nClasses: 2, nFilters: 2, hasDropout: true,
                                                heads: 'seg+sdm', seed });
const bits = async (t: vg.Tensor) => new Uint32Array((await t.data()).slice().buffer);

/** One train-mode step's worth of buffer changes, so running statistics are not at their defaults. */
function touch(net: vg.nn.VNet) {
  vg.scope(() => vg.noGrad(() => net.forward(vg.randn([2, 1, 16, 16, 16], new vg.Generator(5)))));
}

async function rejects(p: Promise<unknown>, re: RegExp) {
  const err = await p.then(() => null, (e: Error) => e);
  assert.ok(err, `expected a rejection matching ${re}`);
  assert.match(err!.message, re);
}

test.before(async () => { await vg.setBackend('ref'); });

test('the byte layout is safetensors: u64 LE header length, 8-aligned JSON header, LE data', () => {
  const bytes = vg.encodeSafetensors({
    tensors: new Map([['a', { dtype: 'F32', shape: [2], data: Float32Array.of(1.5, -2) }],
                      ['n', { dtype: 'I64', shape: [], data: Float32Array.of(3) }]]),
    metadata: { iteration: '7' },
  });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.is(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.equal(header, { __metadata__: { iteration: '7' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
                         n: { dtype: 'I64', shape: [], data_offsets: [8, 16] } });
  assert.is(view.getFloat32(8 + n, true), 1.5);
  assert.is(view.getFloat32(8 + n + 4, true), -2);
  assert.is(view.getBigInt64(8 + n + 8, true), 3n);
  const back = vg.decodeSafetensors(bytes);
  assert.equal(back.metadata, { iteration: '7' });
  assert.equal([...back.tensors.get('n')!.data], [3]);
});

test('malformed files are errors that name the source', () => {
  const good = vg.encodeSafetensors({ tensors: new Map([['w', { dtype: 'F32', shape: [4], data: new Float32Array(4) }]]),
                                      metadata: {} });
  assert.throws(() => vg.decodeSafetensors(good.subarray(0, good.length - 4), 'x.safetensors'),
                /x\.safetensors: tensor 'w' has data_offsets \[0, 16\]/);
  assert.throws(() => vg.decodeSafetensors(new Uint8Array(4), 'y.safetensors'), /y\.safetensors: shorter/);
  const f16 = new TextEncoder().encode(JSON.stringify({ h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }));
  const file = new Uint8Array(8 + f16.length + 2);
  new DataView(file.buffer).setBigUint64(0, BigInt(f16.length), true);
  file.set(f16, 8);
  assert.throws(() => vg.decodeSafetensors(file, 'z.safetensors'), /z\.safetensors: tensor 'h' has dtype F16/);
});

test('save then load is bitwise identical, BN buffers and the int64 counter included', async () => {
  const a = small(1);
  touch(a);
  const path = join(dir, 'a.safetensors');
  await vg.saveCheckpoint(a, path);
  const file = vg.decodeSafetensors(readFileSync(path));
  assert.equal(file.tensors.get('block_one.conv.1.num_batches_tracked'), { dtype: 'I64', shape: [], data: Float32Array.of(1) });
  const b = small(2);
  await vg.loadCheckpoint(b, path);
  const sa = a.stateDict(), sb = b.stateDict();
  for (const [name, t] of sa) assert.equal(await bits(sb.get(name)!), await bits(t), name);
  await vg.saveCheckpoint(b, join(dir, 'b.safetensors'));
  assert.ok(readFileSync(join(dir, 'b.safetensors')).equals(readFileSync(path)), 'files are byte-identical');
  a.dispose();
  b.dispose();
});

test('a checkpoint carries the CRC-32 of its tensor bytes: one flipped bit is refused naming the file; files without one still load', async () => {
  const net = small(2);
  const path = join(dir, 'crc.safetensors');
  await vg.saveCheckpoint(net, path, { metadata: { note: 'x' } });
  const bytes = readFileSync(path);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.match(header.__metadata__.crc32, /^[0-9a-f]{8}$/);
  assert.equal(vg.decodeSafetensors(bytes, path).metadata, { note: 'x' }, 'the checksum is not handed on as metadata');
  const damaged = Uint8Array.from(bytes);
  damaged[bytes.length - 3] ^= 0x10;
  assert.throws(() => vg.decodeSafetensors(damaged, path), (e: Error) => e.message.includes(path) && /CRC-32 is [0-9a-f]{8}, the file says/.test(e.message));
  // PyTorch's safetensors writes no checksum: such a file is read as it is
  const plain = vg.encodeSafetensors(vg.decodeSafetensors(bytes, path));
  assert.ok(!new TextDecoder().decode(plain.subarray(0, 200)).includes('crc32'));
  assert.is(vg.decodeSafetensors(plain).tensors.size, net.stateDict().size);
  net.dispose();
});

test('training extras: tensor groups (an EMA teacher, optimizer buffers) and metadata round-trip', async () => {
  const student = small(1), teacher = small(3);
  touch(teacher);
  const momentum = new Map(student.namedParameters().map(([k, p]) => [k, vg.randn(p.shape, new vg.Generator(9))]));
  const rng = new vg.Generator(4);
  rng.nextU32();
  const path = join(dir, 'train.safetensors');
  await vg.saveCheckpoint(student, path, { groups: { ema: teacher, momentum },
                                           metadata: { iteration: '1200', rng: JSON.stringify(rng.getState()) } });
  const restored = small(5), restoredTeacher = small(6);
  const ck = await vg.loadCheckpoint(restored, path);
  assert.equal(ck.metadata, { iteration: '1200', rng: JSON.stringify(rng.getState()) });
  assert.equal([...ck.groups.keys()], ['ema', 'momentum']);
  restoredTeacher.loadStateDict(ck.groups.get('ema')!, `${path} group ema`);
  for (const [name, t] of teacher.stateDict()) assert.equal(await bits(restoredTeacher.stateDict().get(name)!), await bits(t), name);
  for (const [name, t] of momentum) {
    assert.equal(new Uint32Array(ck.groups.get('momentum')!.get(name)!.data.buffer), await bits(t), name);
  }
  const resumed = new vg.Generator();
  resumed.setState(JSON.parse(ck.metadata.rng));
  assert.is(resumed.nextU32(), rng.nextU32());
  for (const m of [student, teacher, restored, restoredTeacher]) m.dispose();
});

test('strict loading: missing, extra and mis-shaped tensors are errors naming the file and tensor', async () => {
  const net = small(1);
  const path = join(dir, 'strict.safetensors');
  await vg.saveCheckpoint(net, path);
  const file = vg.decodeSafetensors(readFileSync(path));
  const variant = (edit: (t: Map<string, vg.SafeTensor>) => void) => {
    const tensors = new Map(file.tensors);
    edit(tensors);
    const p = join(dir, 'variant.safetensors');
    writeFileSync(p, vg.encodeSafetensors({ tensors, metadata: {} }));
    return p;
  };
  const missing = variant((t) => t.delete('block_three.conv.4.running_var'));
  await rejects(vg.loadCheckpoint(net, missing), /variant\.safetensors does not match VNet\. missing: block_three\.conv\.4\.running_var\./);
  const extra = variant((t) => t.set('block_ten.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }));
  await rejects(vg.loadCheckpoint(net, extra), /unexpected: block_ten\.weight/);
  const shaped = variant((t) => t.set('out_conv.bias', { dtype: 'F32', shape: [3], data: new Float32Array(3) }));
  await rejects(vg.loadCheckpoint(net, shaped), /variant\.safetensors: 'out_conv\.bias' has shape \[3\], the module expects \[2\]/);
  const before = await bits(net.stateDict().get('block_one.conv.0.weight')!);
  await rejects(vg.loadCheckpoint(net, join(dir, 'absent.safetensors')), /cannot read checkpoint .*absent\.safetensors/);
  assert.equal(await bits(net.stateDict().get('block_one.conv.0.weight')!), before, 'a failed load changes nothing');
  net.dispose();
});

test('writes are atomic: no temporary file remains, and a failed write leaves nothing behind', async () => {
  const net = small(1);
  await vg.saveCheckpoint(net, join(dir, 'atomic.safetensors'));
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  await rejects(vg.saveCheckpoint(net, join(dir, 'no', 'such', 'dir.safetensors')), /cannot write checkpoint .*dir\.safetensors/);
  assert.not.ok(existsSync(join(dir, 'no')));
  net.dispose();
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
