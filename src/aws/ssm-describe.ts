import {
  ListTagsForResourceCommand,
  paginateDescribeInstanceInformation,
  type InstanceInformation,
  type InstanceInformationStringFilter,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { chunk, tagsOf } from './inventory-util';

// SSM DescribeInstanceInformation and ListTagsForResource for AwsInventory (aws-inventory.ts).

/** DescribeInstanceInformation pages hold at most 50 nodes; one id batch fills one page. */
const SSM_IDS_PER_CALL = 50;

/** SSM registration of these nodes (EC2 `i-` or hybrid `mi-`), by id; nodes SSM does not know are absent. */
export async function instanceInformation(
  client: SSMClient,
  ids: readonly string[],
): Promise<Map<string, InstanceInformation>> {
  const found = new Map<string, InstanceInformation>();
  for (const batch of chunk(ids, SSM_IDS_PER_CALL)) {
    for (const info of await informationForIds(client, batch)) if (info.InstanceId) found.set(info.InstanceId, info);
  }
  return found;
}

/**
 * SSM may answer InvalidInstanceId for a batch holding an id it does not know instead of leaving the id out;
 * then the batch is halved until the unknown ids are isolated, so known ones still resolve.
 */
async function informationForIds(client: SSMClient, ids: string[]): Promise<InstanceInformation[]> {
  try {
    return await describeInformation(client, [{ Key: 'InstanceIds', Values: ids }]);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'InvalidInstanceId')) throw error;
    if (ids.length === 1) return [];
    const half = Math.ceil(ids.length / 2);
    return [
      ...(await informationForIds(client, ids.slice(0, half))),
      ...(await informationForIds(client, ids.slice(half))),
    ];
  }
}

/** Hybrid (`mi-`) nodes whose Name tag is exactly `name`. EC2 instances SSM also reports are left to the EC2 lookup. */
export async function managedInstancesByName(client: SSMClient, name: string): Promise<InstanceInformation[]> {
  const infos = await describeInformation(client, [{ Key: 'tag:Name', Values: [name] }]);
  return infos.filter((info) => info.ResourceType === 'ManagedInstance' || info.InstanceId?.startsWith('mi-'));
}

/** Tags of a hybrid node; SSM has no batch form of this call. */
export async function managedInstanceTags(client: SSMClient, id: string): Promise<Record<string, string>> {
  const out = await client.send(new ListTagsForResourceCommand({ ResourceType: 'ManagedInstance', ResourceId: id }));
  return tagsOf(out.TagList);
}

async function describeInformation(
  client: SSMClient,
  filters: InstanceInformationStringFilter[],
): Promise<InstanceInformation[]> {
  const infos: InstanceInformation[] = [];
  for await (const page of paginateDescribeInstanceInformation(
    { client, pageSize: SSM_IDS_PER_CALL },
    { Filters: filters },
  )) {
    infos.push(...(page.InstanceInformationList ?? []));
  }
  return infos;
}
