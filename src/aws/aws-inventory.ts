import type { Instance } from '@aws-sdk/client-ec2';
import type { InstanceInformation } from '@aws-sdk/client-ssm';
import { isNodeId } from '../core/command';
import type { Node } from '../core/model';
import type { Inventory, NodeLookup } from '../ports/inventory';
import type { AwsClients } from './clients';
import { TtlCache } from './inventory-cache';
import { instancesByIds, instancesByName } from './ec2-describe';
import { instanceInformation, managedInstancesByName, managedInstanceTags } from './ssm-describe';
import { mapLimit, tagsOf } from './inventory-util';

export interface AwsInventoryOptions {
  clients: AwsClients;
  /** Account ids to search; each must be configured in `clients`. */
  accounts: string[];
  regions: string[];
  /** How long a lookup stays cached (default 60 s). */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 60_000;
/** An id nobody knows is asked about again sooner: it may be a node launched a moment ago. */
const MISS_TTL_MS = 10_000;
/** ListTagsForResource is one call per hybrid node; keep the burst small. */
const TAG_CALLS_AT_ONCE = 5;
/** Ping status of an EC2 instance SSM has no record of. */
export const NOT_REGISTERED = 'NotRegistered';

interface Place {
  account: string;
  region: string;
}

/** An AWS call that failed for a reason other than "not here"; names where, never with credentials. */
export class InventoryLookupError extends Error {
  override readonly name = 'InventoryLookupError';
}

/**
 * Resolves instance ids (`i-…`), hybrid node ids (`mi-…`) and Name tag values to nodes by asking EC2 and SSM in
 * every configured account and region at once. Lookups are cached for a short while.
 */
export class AwsInventory implements Inventory {
  private readonly places: Place[];
  /** Node id → node, or null when no account/region has it. */
  private readonly nodes: TtlCache<Node | null>;
  /** Name tag value → ids of the nodes carrying it. */
  private readonly names: TtlCache<string[]>;

  constructor(private readonly options: AwsInventoryOptions) {
    const now = options.now ?? Date.now;
    const ttl = options.ttlMs ?? DEFAULT_TTL_MS;
    this.places = options.accounts.flatMap((account) => options.regions.map((region) => ({ account, region })));
    this.nodes = new TtlCache(now, (node) => (node === null ? Math.min(ttl, MISS_TTL_MS) : ttl));
    this.names = new TtlCache(now, () => ttl);
  }

  async resolve(idOrName: string): Promise<NodeLookup> {
    const query = idOrName.trim();
    if (query === '') return { kind: 'not_found' };
    if (isNodeId(query)) {
      const [node] = await this.describe([query]);
      return node ? { kind: 'found', node } : { kind: 'not_found' };
    }
    const named = await this.findByName(query);
    if (named.length === 0) return { kind: 'not_found' };
    if (named.length === 1) return { kind: 'found', node: named[0]! };
    return { kind: 'ambiguous', nodes: named };
  }

  /** The nodes with these ids (those found, in the order asked), looked up in batches; cached ones are not asked again. */
  async describe(ids: readonly string[]): Promise<Node[]> {
    const wanted = [...new Set(ids.map((id) => id.trim().toLowerCase()))];
    const loaded = await this.nodes.getMany(wanted, (missing) => this.loadIds(missing));
    return wanted.map((id) => loaded.get(id)).filter((node): node is Node => node != null);
  }

  private async findByName(name: string): Promise<Node[]> {
    const ids = await this.names.get(name, () => this.loadName(name));
    // Names are cached longer than a node may live: drop ones that have ended since.
    return (await this.describe(ids)).filter((node) => node.state !== 'terminated');
  }

  /** An id lives in one account and region; the first place (in configured order) that knows it wins. */
  private async loadIds(ids: string[]): Promise<Map<string, Node | null>> {
    const instanceIds = ids.filter((id) => isNodeId(id) && id.startsWith('i-'));
    const managedIds = ids.filter((id) => isNodeId(id) && id.startsWith('mi-'));
    const outcomes = await Promise.allSettled(this.places.map((place) => this.nodesAt(place, instanceIds, managedIds)));
    const result = new Map<string, Node | null>();
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') continue;
      for (const node of outcome.value) if (!result.has(node.id)) result.set(node.id, node);
    }
    const unresolved = ids.filter((id) => !result.has(id));
    const failure = outcomes.find((outcome) => outcome.status === 'rejected');
    // A place that failed might hold an unresolved id: saying "not found" could be wrong, so the failure surfaces.
    if (failure && unresolved.length > 0) throw failure.reason;
    for (const id of unresolved) result.set(id, null);
    return result;
  }

  private async nodesAt(place: Place, instanceIds: string[], managedIds: string[]): Promise<Node[]> {
    const [instances, managed] = await Promise.all([
      instanceIds.length > 0
        ? this.call(place, 'ec2:DescribeInstances', (c) => instancesByIds(c.ec2, instanceIds))
        : [],
      managedIds.length > 0
        ? this.call(place, 'ssm:DescribeInstanceInformation', (c) => instanceInformation(c.ssm, managedIds))
        : new Map(),
    ]);
    return [...(await this.ec2Nodes(place, instances)), ...(await this.managedNodes(place, [...managed.values()]))];
  }

  /** Every node carrying the Name tag, in any account/region; the nodes found are cached by id on the way. */
  private async loadName(name: string): Promise<string[]> {
    const perPlace = await Promise.all(
      this.places.map(async (place) => {
        const [instances, managed] = await Promise.all([
          this.call(place, 'ec2:DescribeInstances', (c) => instancesByName(c.ec2, name)),
          this.call(place, 'ssm:DescribeInstanceInformation', (c) => managedInstancesByName(c.ssm, name)),
        ]);
        const named = instances.filter((instance) => tagsOf(instance.Tags).Name === name);
        return [...(await this.ec2Nodes(place, named)), ...(await this.managedNodes(place, managed))];
      }),
    );
    // Only exact matches: a typed `*` must not list every node, whatever wildcards the services' filters honour.
    const nodes = perPlace.flat().filter((node) => node.tags.Name === name);
    for (const node of nodes) this.nodes.set(node.id, node);
    return [...new Set(nodes.map((node) => node.id))];
  }

  private async ec2Nodes(place: Place, instances: Instance[]): Promise<Node[]> {
    const ids = instances.map((instance) => instance.InstanceId).filter((id): id is string => id !== undefined);
    if (ids.length === 0) return [];
    const registered = await this.call(place, 'ssm:DescribeInstanceInformation', (c) =>
      instanceInformation(c.ssm, ids),
    );
    return instances
      .filter((instance) => instance.InstanceId !== undefined)
      .map((instance) => {
        const tags = tagsOf(instance.Tags);
        return withoutUndefined({
          id: instance.InstanceId!,
          account: place.account,
          region: place.region,
          name: tags.Name,
          tags,
          state: instance.State?.Name,
          pingStatus: registered.get(instance.InstanceId!)?.PingStatus ?? NOT_REGISTERED,
        });
      });
  }

  /** Hybrid nodes: tags from ListTagsForResource; the name falls back to the one given at activation. */
  private managedNodes(place: Place, infos: InstanceInformation[]): Promise<Node[]> {
    const known = infos.filter((info) => info.InstanceId !== undefined);
    return mapLimit(known, TAG_CALLS_AT_ONCE, async (info) => {
      const id = info.InstanceId!;
      const tags = await this.call(place, 'ssm:ListTagsForResource', (c) => managedInstanceTags(c.ssm, id));
      return withoutUndefined({
        id,
        account: place.account,
        region: place.region,
        name: tags.Name ?? info.Name,
        tags,
        pingStatus: info.PingStatus ?? NOT_REGISTERED,
      });
    });
  }

  private async call<T>(place: Place, operation: string, run: (clients: PlaceClients) => Promise<T>): Promise<T> {
    const { clients } = this.options;
    try {
      return await run({
        ec2: clients.ec2(place.account, place.region),
        ssm: clients.ssm(place.account, place.region),
      });
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new InventoryLookupError(
        `${operation} failed in account ${place.account}, region ${place.region}: ${reason}`,
        {
          cause: error,
        },
      );
    }
  }
}

interface PlaceClients {
  ec2: ReturnType<AwsClients['ec2']>;
  ssm: ReturnType<AwsClients['ssm']>;
}

/** Node fields that are absent stay absent (not `undefined`), so nodes compare and serialise cleanly. */
function withoutUndefined(node: Node): Node {
  return Object.fromEntries(Object.entries(node).filter(([, value]) => value !== undefined)) as unknown as Node;
}
