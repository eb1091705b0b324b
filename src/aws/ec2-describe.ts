import { paginateDescribeInstances, type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';
import { chunk } from './inventory-util';

// EC2 DescribeInstances for AwsInventory (aws-inventory.ts): id batches, paging, Name filters taken literally.

/**
 * EC2 rejects a call carrying more than 200 filter values ("FilterLimitExceeded: The maximum number of
 * filter values specified on a single call is 200"), so id batches are cut at that size.
 */
export const EC2_IDS_PER_CALL = 200;
/** DescribeInstances page size (EC2 accepts 5–1000). */
const PAGE_SIZE = 1000;
/** Every state but `terminated`: name lookups must not offer nodes that are gone. */
const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];
/** Error codes meaning "this account/region does not have that instance", not a failure. */
const NOT_HERE = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/**
 * Instances with these ids, by the `instance-id` filter rather than `InstanceIds`: an unknown id in `InstanceIds`
 * fails the whole call, while a filter simply leaves it out, and only filtered calls can be paged.
 */
export async function instancesByIds(client: EC2Client, ids: readonly string[]): Promise<Instance[]> {
  const found: Instance[] = [];
  for (const batch of chunk(ids, EC2_IDS_PER_CALL)) {
    found.push(...(await describeInstances(client, [{ Name: 'instance-id', Values: batch }])));
  }
  return found;
}

/** Instances that are not terminated and whose Name tag is `name` (wildcard characters in it taken literally). */
export function instancesByName(client: EC2Client, name: string): Promise<Instance[]> {
  return describeInstances(client, [
    { Name: 'tag:Name', Values: [literalFilterValue(name)] },
    { Name: 'instance-state-name', Values: LIVE_STATES },
  ]);
}

async function describeInstances(client: EC2Client, filters: Filter[]): Promise<Instance[]> {
  const instances: Instance[] = [];
  try {
    for await (const page of paginateDescribeInstances({ client, pageSize: PAGE_SIZE }, { Filters: filters })) {
      for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
    }
  } catch (error) {
    if (error instanceof Error && NOT_HERE.has(error.name)) return instances;
    throw error;
  }
  return instances;
}

/** EC2 filter values treat `*` and `?` as wildcards; a backslash makes them (and itself) literal. */
function literalFilterValue(value: string): string {
  return value.replace(/[\\*?]/g, (char) => `\\${char}`);
}
