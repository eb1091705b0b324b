import type { Node } from '../core/model';

// The small fleet `inventory.demo: true` adds: nodes in aws-cn, two of them named alike, one offline. The
// built-in demo config uses them; any config may.

const DEMO_ACCOUNT = '111122223333';
const DEMO_REGION = 'cn-north-1';
const demoNode = (node: Omit<Node, 'account' | 'region'> & Partial<Pick<Node, 'account' | 'region'>>): Node => ({
  account: DEMO_ACCOUNT,
  region: DEMO_REGION,
  ...node,
});

/** The nodes `inventory.demo: true` adds. */
export const DEMO_NODES: readonly Node[] = [
  demoNode({
    id: 'i-0123456789abcdef0',
    name: 'web-1',
    tags: { Env: 'prod', Owner: 'web-team' },
    pingStatus: 'Online',
  }),
  demoNode({ id: 'i-0123456789abcdef1', name: 'web-2', tags: { Env: 'prod' }, pingStatus: 'Online' }),
  demoNode({ id: 'i-0fedcba9876543210', name: 'dev-box', tags: { Env: 'dev' }, pingStatus: 'Online' }),
  demoNode({ id: 'i-0aaaabbbbccccdddd', name: 'db-1', tags: { Env: 'prod', Role: 'database' }, pingStatus: 'Online' }),
  demoNode({ id: 'mi-0123456789abcdef0', name: 'legacy-1', tags: { Env: 'prod' }, pingStatus: 'ConnectionLost' }),
  demoNode({
    id: 'i-0b0b0b0b0b0b0b0b1',
    name: 'batch',
    account: '444455556666',
    region: 'cn-northwest-1',
    tags: {},
    pingStatus: 'Online',
  }),
  demoNode({
    id: 'i-0b0b0b0b0b0b0b0b2',
    name: 'batch',
    account: '444455556666',
    region: 'cn-northwest-1',
    tags: {},
    pingStatus: 'Online',
  }),
];
