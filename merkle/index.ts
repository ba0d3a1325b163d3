/**
 * Vitrine's Merkle tree library: RFC 6962 / RFC 9162 §2.1 hashing, tree
 * hashes, proof planning, generation and verification, compact ranges, and
 * c2sp.org/tlog-tiles coordinates. Pure and I/O-free: stored hashes are
 * read through functions the caller passes in. Runs in browsers (no Node
 * APIs). See docs/merkle.md.
 */
export { EMPTY_ROOT, HASH_SIZE, leafHash, nodeHash, sha256, type Hash } from './hash.js';
export { MAX_SIZE } from './_check.js';
export { nodeId, treeHash, type NodeId, type StoredNode } from './tree.js';
export {
  consistencyProof,
  consistencyProofAsync,
  inclusionProof,
  inclusionProofAsync,
  planConsistency,
  planInclusion,
  planRoot,
  rootFromStored,
  rootFromStoredAsync,
  type ConsistencyProofOptions,
  type ProofPlan,
  type ReadHashes,
  type ReadHashesAsync,
  type RootPlan,
} from './proof.js';
export {
  consistencyRoots,
  ProofError,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
  type ConsistencyRootsOptions,
} from './verify.js';
export { CompactRange } from './compact.js';
export {
  BundleFormatError,
  splitBundle,
  entriesPath,
  hashFromTile,
  parseTileIndexPath,
  parseTilePath,
  partialTilesForSize,
  TILE_HEIGHT,
  TILE_WIDTH,
  tileForNode,
  tileHashReader,
  tileIndexPath,
  tileNodes,
  tilePath,
  tilesForSize,
  tileWidth,
  type BundleId,
  type ReadTiles,
  type TileId,
  type TilePath,
  type TileSlot,
} from './tiles.js';
