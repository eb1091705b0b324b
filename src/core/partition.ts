// Partition and ARNs derive from the region; nothing hard-codes `arn:aws:`.

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The ARN `ssm:StartSession` authorises against: EC2 instance, or SSM managed instance for hybrid `mi-` nodes. */
export function nodeArn(node: { id: string; account: string; region: string }): string {
  const partition = partitionOf(node.region);
  return node.id.startsWith('mi-')
    ? `arn:${partition}:ssm:${node.region}:${node.account}:managed-instance/${node.id}`
    : `arn:${partition}:ec2:${node.region}:${node.account}:instance/${node.id}`;
}
