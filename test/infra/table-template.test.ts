import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  CreateTableCommand,
  type AttributeDefinition,
  type CreateTableCommandInput,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { parseDocument } from 'yaml';
import { ATTR, DEFAULT_TABLE_NAME, STORE_ACTIONS, checkTable, tableDefinition } from '../../src/store/table';

// The CloudFormation template and tableDefinition() describe the same table; these tests stop them drifting apart.

const INFRA_DIR = join(__dirname, '../../infra');
const TEMPLATE_PATH = join(INFRA_DIR, 'cloudformation/jitbot-table.yaml');

interface TableProperties {
  TableName: unknown;
  BillingMode: string;
  KeySchema: KeySchemaElement[];
  AttributeDefinitions: AttributeDefinition[];
  GlobalSecondaryIndexes: GlobalSecondaryIndex[];
  TimeToLiveSpecification: { AttributeName: string; Enabled: boolean };
  PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: boolean };
  DeletionProtectionEnabled: boolean;
  ProvisionedThroughput?: unknown;
}

interface Template {
  Parameters: Record<string, { Default?: unknown }>;
  Resources: Record<
    string,
    { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string; Properties: unknown }
  >;
  Outputs: Record<string, { Value: unknown }>;
}

const templateDocument = parseDocument(readFileSync(TEMPLATE_PATH, 'utf8'));
const template = templateDocument.toJS() as Template;
const wanted = tableDefinition(DEFAULT_TABLE_NAME);

function tableResource(): {
  name: string;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  properties: TableProperties;
} {
  const tables = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table');
  const [only, ...others] = tables;
  if (only === undefined || others.length > 0)
    throw new Error(`expected one AWS::DynamoDB::Table, found ${tables.length}`);
  const [name, resource] = only;
  return { name, ...resource, properties: resource.Properties as TableProperties };
}

const table = tableResource();
const byName = <T>(items: readonly T[], name: (item: T) => string | undefined): Map<string | undefined, T> =>
  new Map(items.map((item) => [name(item), item]));

describe('infra/cloudformation/jitbot-table.yaml matches tableDefinition()', () => {
  it('is plain YAML (long-form intrinsics only)', () => {
    // Short-form tags (!Ref, !Sub) are only warnings to the yaml package, and their meaning would be lost here.
    expect(templateDocument.errors.map(String)).toEqual([]);
    expect(templateDocument.warnings.map(String)).toEqual([]);
  });

  it('has the same key schema, in order (HASH then RANGE)', () => {
    expect(table.properties.KeySchema).toEqual(wanted.KeySchema);
  });

  it('defines exactly the same attributes with the same types', () => {
    const sortByName = (list: readonly AttributeDefinition[]) =>
      [...list].sort((a, b) => String(a.AttributeName).localeCompare(String(b.AttributeName)));
    expect(sortByName(table.properties.AttributeDefinitions)).toEqual(sortByName(wanted.AttributeDefinitions ?? []));
  });

  it('has exactly the same global secondary indexes', () => {
    const wantedIndexes = wanted.GlobalSecondaryIndexes ?? [];
    const actualIndexes = table.properties.GlobalSecondaryIndexes;
    expect(actualIndexes.map((index) => index.IndexName).sort()).toEqual(
      wantedIndexes.map((index) => index.IndexName).sort(),
    );
    const actualByName = byName(actualIndexes, (index) => index.IndexName);
    for (const index of wantedIndexes) {
      expect({ index: index.IndexName, ...actualByName.get(index.IndexName) }).toEqual({
        index: index.IndexName,
        ...index,
      });
    }
  });

  it('bills per request and sets no provisioned throughput', () => {
    expect(table.properties.BillingMode).toBe(wanted.BillingMode);
    expect(table.properties.ProvisionedThroughput).toBeUndefined();
    for (const index of table.properties.GlobalSecondaryIndexes) expect(index.ProvisionedThroughput).toBeUndefined();
  });

  it('names the table from a parameter whose default is the name jitbot uses', () => {
    expect(table.properties.TableName).toEqual({ Ref: 'TableName' });
    expect(template.Parameters.TableName?.Default).toBe(DEFAULT_TABLE_NAME);
  });

  it('enables TTL on the attribute the store writes, point-in-time recovery and deletion protection', () => {
    expect(table.properties.TimeToLiveSpecification).toEqual({ AttributeName: ATTR.ttl, Enabled: true });
    expect(table.properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.properties.DeletionProtectionEnabled).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('grants the store exactly the actions it performs (and Query on the indexes)', () => {
    const policy = template.Resources.AccessPolicy?.Properties as {
      PolicyDocument: { Statement: { Sid: string; Action: string[] }[] };
    };
    const actions = Object.fromEntries(
      policy.PolicyDocument.Statement.map((statement) => [statement.Sid, statement.Action]),
    );
    expect(actions).toEqual({ ReadWriteItems: [...STORE_ACTIONS], QueryIndexes: ['dynamodb:Query'] });
  });

  it('outputs the table name and ARN', () => {
    expect(template.Outputs.TableName?.Value).toEqual({ Ref: table.name });
    expect(template.Outputs.TableArn?.Value).toEqual({ 'Fn::GetAtt': [table.name, 'Arn'] });
  });
});

describe('partition-neutral ARNs', () => {
  const infraFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? infraFiles(join(dir, entry.name)) : [join(dir, entry.name)],
    );

  it('no file under infra/ contains a literal arn:aws: (it would break in aws-cn)', () => {
    const offenders = infraFiles(INFRA_DIR).filter((file) => readFileSync(file, 'utf8').includes('arn:aws:'));
    expect(offenders).toEqual([]);
  });

  it('any ARN written in the template takes its partition from ${AWS::Partition}', () => {
    const text = readFileSync(TEMPLATE_PATH, 'utf8');
    const arns = [...text.matchAll(/\barn:[^"\s]*/g)].map((match) => match[0]);
    expect(arns.filter((arn) => !arn.startsWith('arn:${AWS::Partition}:'))).toEqual([]);
  });

  it('the access policy takes its resources from the table itself (so they carry the stack partition)', () => {
    const policy = template.Resources.AccessPolicy?.Properties as {
      PolicyDocument: { Statement: { Resource: unknown[] }[] };
    };
    const resources = policy.PolicyDocument.Statement.flatMap((statement) => statement.Resource);
    expect(resources).toEqual([{ 'Fn::GetAtt': [table.name, 'Arn'] }, { 'Fn::Sub': `\${${table.name}.Arn}/index/*` }]);
  });
});

describe('the template table on a DynamoDB emulator', () => {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) throw new Error('MOTO_ENDPOINT is not set (test/support/global-setup.js starts moto_server)');
  const client = new DynamoDBClient({
    endpoint,
    region: 'cn-north-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  afterAll(() => client.destroy());

  it('can be created from the template properties and passes jitbot checkTable', async () => {
    const tableName = `jitbot-cfn-${Date.now()}`;
    const { KeySchema, AttributeDefinitions, GlobalSecondaryIndexes, BillingMode, TimeToLiveSpecification } =
      table.properties;
    const input: CreateTableCommandInput = {
      TableName: tableName,
      BillingMode: BillingMode as CreateTableCommandInput['BillingMode'],
      KeySchema,
      AttributeDefinitions,
      GlobalSecondaryIndexes,
    };
    await client.send(new CreateTableCommand(input));
    await client.send(new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification }));

    await expect(checkTable(client, tableName)).resolves.toBeUndefined();
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(TimeToLiveDescription?.AttributeName).toBe(ATTR.ttl);
  });
});
