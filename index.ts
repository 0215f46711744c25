// voxgrad: the package entry point.
export * from './engine/index.ts';
