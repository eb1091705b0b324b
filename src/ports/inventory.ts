import type { Node } from '../core/model';

export type NodeLookup =
  | { kind: 'found'; node: Node }
  /** Several nodes carry that Name tag: the requester must choose by id. */
  | { kind: 'ambiguous'; nodes: Node[] }
  | { kind: 'not_found' };

/** Resolves what a requester typed (an instance/managed-node id or a Name tag value) to a node with its tags. */
export interface Inventory {
  resolve(idOrName: string): Promise<NodeLookup>;
}
