/**
 * Offline proofs: `.tlog-proof` bundles (c2sp.org/tlog-proof, docs/formats.md §8)
 * split-view evidence (docs/formats.md §9) and rollback evidence (./rollback.ts). Browser-safe: nothing here
 * imports a Node-only module.
 */
export * from './bundle.js';
export * from './evidence.js';
export * from './rollback.js';
