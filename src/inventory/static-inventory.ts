import type { Node } from '../core/model';
import type { Inventory, NodeLookup } from '../ports/inventory';

/** Nodes listed in the config (the demo inventory when no AWS account is configured). */
export class StaticInventory implements Inventory {
  constructor(private readonly nodes: readonly Node[]) {}

  async resolve(idOrName: string): Promise<NodeLookup> {
    const wanted = idOrName.trim();
    const byId = this.nodes.find((n) => n.id.toLowerCase() === wanted.toLowerCase());
    if (byId) return { kind: 'found', node: byId };
    const byName = this.nodes.filter((n) => n.name === wanted);
    if (byName.length === 1) return { kind: 'found', node: byName[0]! };
    if (byName.length > 1) return { kind: 'ambiguous', nodes: byName };
    return { kind: 'not_found' };
  }
}
