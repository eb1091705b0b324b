import type { Node } from '../../src/core/model';
import type { AutoApprovalPolicy, DenyPolicy, ManualPolicy, Policy, TargetSelector } from '../../src/core/policy-model';
import {
  AUTO_MIN_DURATION_MS,
  describeTargets,
  evaluatePolicies,
  specificity,
  type PolicyOutcome,
} from '../../src/core/policy';

const MIN = 60_000;
const HOUR = 60 * MIN;

const web: Node = {
  id: 'i-0abc1234def567890',
  account: '111122223333',
  region: 'cn-north-1',
  name: 'web-1',
  tags: { Name: 'web-1', Env: 'prod', Team: 'web' },
};
const db: Node = {
  id: 'i-0db00000000000001',
  account: '111122223333',
  region: 'cn-north-1',
  name: 'db-1',
  tags: { Name: 'db-1', Env: 'prod', Role: 'database' },
};
const devBox: Node = {
  id: 'i-0dev0000000000001',
  account: '444455556666',
  region: 'cn-northwest-1',
  tags: { Env: 'dev' },
};
const onPrem: Node = {
  id: 'mi-0123456789abcdef0',
  account: '111122223333',
  region: 'cn-north-1',
  tags: { Site: 'shanghai-dc' },
};

function deny(name: string, targets: TargetSelector, groups?: string[]): DenyPolicy {
  return { kind: 'deny', name, targets, message: `${name} says no`, ...(groups ? { requesters: { groups } } : {}) };
}
function auto(name: string, targets: TargetSelector, groups?: string[], maxDurationMs = HOUR): AutoApprovalPolicy {
  return { kind: 'auto', name, targets, maxDurationMs, ...(groups ? { requesters: { groups } } : {}) };
}
function manual(
  name: string,
  targets: TargetSelector,
  groups?: string[],
  bounds = { min: 15 * MIN, max: 8 * HOUR, default: 2 * HOUR },
): ManualPolicy {
  return {
    kind: 'manual',
    name,
    targets,
    minDurationMs: bounds.min,
    maxDurationMs: bounds.max,
    defaultDurationMs: bounds.default,
    levels: [{ roles: ['ops'], users: [], required: 1 }],
    timeoutMs: 24 * HOUR,
    reminderIntervalMs: 0,
    ...(groups ? { requesters: { groups } } : {}),
  };
}

/** Outcome reduced to names so each row states exactly which policy, of which kind, decided. */
type Summary =
  | { kind: 'deny' | 'auto' | 'manual'; policy: string; durationMs?: number }
  | { kind: 'duration_out_of_bounds'; policy: string; requestedMs: number; minMs: number; maxMs: number }
  | { kind: 'ambiguous'; policies: [string, string] }
  | { kind: 'none' };

function summarize(outcome: PolicyOutcome): Summary {
  switch (outcome.kind) {
    case 'deny':
      return { kind: 'deny', policy: outcome.policy.name };
    case 'auto':
    case 'manual':
      return { kind: outcome.kind, policy: outcome.policy.name, durationMs: outcome.durationMs };
    case 'duration_out_of_bounds': {
      const { policy, requestedMs, minMs, maxMs } = outcome;
      return { kind: outcome.kind, policy: policy.name, requestedMs, minMs, maxMs };
    }
    case 'ambiguous':
      return { kind: 'ambiguous', policies: [outcome.policies[0].name, outcome.policies[1].name] };
    case 'none':
      return { kind: 'none' };
  }
}

interface Row {
  policies: Policy[];
  node: Node;
  groups?: string[];
  durationMs?: number;
  expected: Summary;
}

function run(row: Row): Summary {
  const input = {
    node: row.node,
    requesterGroups: row.groups ?? [],
    ...(row.durationMs !== undefined ? { durationMs: row.durationMs } : {}),
  };
  return summarize(evaluatePolicies(row.policies, input));
}

describe('evaluation order: deny → auto → manual', () => {
  test.each<[string, Row]>([
    [
      'deny beats auto and manual on the same node',
      {
        policies: [manual('m-all', {}), auto('a-all', {}), deny('d-all', {})],
        node: web,
        expected: { kind: 'deny', policy: 'd-all' },
      },
    ],
    [
      'auto beats manual',
      {
        policies: [manual('m-all', {}), auto('a-all', {})],
        node: web,
        expected: { kind: 'auto', policy: 'a-all', durationMs: HOUR },
      },
    ],
    [
      'less specific auto still beats a more specific manual (kinds are not mixed in specificity)',
      {
        policies: [manual('m-web', { ids: [web.id] }), auto('a-all', {})],
        node: web,
        expected: { kind: 'auto', policy: 'a-all', durationMs: HOUR },
      },
    ],
    [
      'deny on a tag refuses a database while auto covers everything',
      {
        policies: [auto('a-all', {}), deny('d-db', { tags: { Role: 'database' } })],
        node: db,
        expected: { kind: 'deny', policy: 'd-db' },
      },
    ],
    [
      'the same tag deny leaves other nodes to auto',
      {
        policies: [auto('a-all', {}), deny('d-db', { tags: { Role: 'database' } })],
        node: web,
        expected: { kind: 'auto', policy: 'a-all', durationMs: HOUR },
      },
    ],
    [
      'a broad deny wins over a narrower deny and any specificity: first matching deny in config order',
      {
        policies: [deny('d-all', {}), deny('d-web', { ids: [web.id] }), auto('a-web', { ids: [web.id] })],
        node: web,
        expected: { kind: 'deny', policy: 'd-all' },
      },
    ],
    [
      'two matching denies: the first in config order is reported (not ambiguous)',
      {
        policies: [deny('d-prod', { tags: { Env: 'prod' } }), deny('d-db', { tags: { Role: 'database' } })],
        node: db,
        expected: { kind: 'deny', policy: 'd-prod' },
      },
    ],
    [
      'auto not matching falls through to manual',
      {
        policies: [auto('a-dev', { tags: { Env: 'dev' } }), manual('m-all', {})],
        node: web,
        expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR },
      },
    ],
    [
      'no policy covers the node → none',
      {
        policies: [auto('a-dev', { tags: { Env: 'dev' } }), manual('m-db', { tags: { Role: 'database' } })],
        node: web,
        expected: { kind: 'none' },
      },
    ],
    ['no policies at all → none', { policies: [], node: web, expected: { kind: 'none' } }],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('auto-approval durations', () => {
  const policies = [auto('a-all', {}, undefined, 2 * HOUR)];
  test.each<[string, Row]>([
    [
      'none requested → the policy maximum',
      { policies, node: web, expected: { kind: 'auto', policy: 'a-all', durationMs: 2 * HOUR } },
    ],
    [
      'requested below the maximum is granted as asked',
      { policies, node: web, durationMs: 30 * MIN, expected: { kind: 'auto', policy: 'a-all', durationMs: 30 * MIN } },
    ],
    [
      'requested exactly the maximum is granted',
      { policies, node: web, durationMs: 2 * HOUR, expected: { kind: 'auto', policy: 'a-all', durationMs: 2 * HOUR } },
    ],
    [
      'requested exactly the 1-minute floor is granted',
      { policies, node: web, durationMs: MIN, expected: { kind: 'auto', policy: 'a-all', durationMs: MIN } },
    ],
    [
      'requested over the maximum → out of bounds',
      {
        policies,
        node: web,
        durationMs: 3 * HOUR,
        expected: {
          kind: 'duration_out_of_bounds',
          policy: 'a-all',
          requestedMs: 3 * HOUR,
          minMs: MIN,
          maxMs: 2 * HOUR,
        },
      },
    ],
    [
      'requested under one minute → out of bounds',
      {
        policies,
        node: web,
        durationMs: 30_000,
        expected: { kind: 'duration_out_of_bounds', policy: 'a-all', requestedMs: 30_000, minMs: MIN, maxMs: 2 * HOUR },
      },
    ],
    [
      'over the auto maximum does not fall through to a manual policy',
      {
        policies: [auto('a-all', {}), manual('m-all', {})],
        node: web,
        durationMs: 4 * HOUR,
        expected: { kind: 'duration_out_of_bounds', policy: 'a-all', requestedMs: 4 * HOUR, minMs: MIN, maxMs: HOUR },
      },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });

  test('the documented floor is one minute', () => {
    expect(AUTO_MIN_DURATION_MS).toBe(MIN);
  });
});

describe('manual durations', () => {
  const policies = [manual('m-all', {}, undefined, { min: 30 * MIN, max: 8 * HOUR, default: 2 * HOUR })];
  const bounds = { minMs: 30 * MIN, maxMs: 8 * HOUR };
  test.each<[string, Row]>([
    [
      'none requested → the default',
      { policies, node: web, expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR } },
    ],
    [
      'inside the bounds',
      {
        policies,
        node: web,
        durationMs: 4 * HOUR,
        expected: { kind: 'manual', policy: 'm-all', durationMs: 4 * HOUR },
      },
    ],
    [
      'exactly the minimum',
      {
        policies,
        node: web,
        durationMs: 30 * MIN,
        expected: { kind: 'manual', policy: 'm-all', durationMs: 30 * MIN },
      },
    ],
    [
      'exactly the maximum',
      {
        policies,
        node: web,
        durationMs: 8 * HOUR,
        expected: { kind: 'manual', policy: 'm-all', durationMs: 8 * HOUR },
      },
    ],
    [
      'below the minimum → out of bounds',
      {
        policies,
        node: web,
        durationMs: 10 * MIN,
        expected: { kind: 'duration_out_of_bounds', policy: 'm-all', requestedMs: 10 * MIN, ...bounds },
      },
    ],
    [
      'above the maximum → out of bounds',
      {
        policies,
        node: web,
        durationMs: 9 * HOUR,
        expected: { kind: 'duration_out_of_bounds', policy: 'm-all', requestedMs: 9 * HOUR, ...bounds },
      },
    ],
    [
      'a non-finite duration is never accepted',
      {
        policies,
        node: web,
        durationMs: Number.NaN,
        expected: { kind: 'duration_out_of_bounds', policy: 'm-all', requestedMs: Number.NaN, ...bounds },
      },
    ],
    [
      'a misconfigured default outside the bounds is reported, not granted',
      {
        policies: [manual('m-bad', {}, undefined, { min: HOUR, max: 2 * HOUR, default: 3 * HOUR })],
        node: web,
        expected: {
          kind: 'duration_out_of_bounds',
          policy: 'm-bad',
          requestedMs: 3 * HOUR,
          minMs: HOUR,
          maxMs: 2 * HOUR,
        },
      },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('most specific policy of the deciding kind wins', () => {
  test.each<[string, Row]>([
    [
      'id beats tag (manual)',
      {
        policies: [manual('m-prod', { tags: { Env: 'prod' } }), manual('m-web', { ids: [web.id] })],
        node: web,
        expected: { kind: 'manual', policy: 'm-web', durationMs: 2 * HOUR },
      },
    ],
    [
      'id beats many tags (manual)',
      {
        policies: [
          manual('m-tags', { tags: { Env: 'prod', Team: 'web', Name: 'web-1' } }),
          manual('m-web', { ids: [web.id] }),
        ],
        node: web,
        expected: { kind: 'manual', policy: 'm-web', durationMs: 2 * HOUR },
      },
    ],
    [
      'tag beats all nodes (manual)',
      {
        policies: [manual('m-all', {}), manual('m-prod', { tags: { Env: 'prod' } })],
        node: web,
        expected: { kind: 'manual', policy: 'm-prod', durationMs: 2 * HOUR },
      },
    ],
    [
      'two tags beat one tag (manual)',
      {
        policies: [
          manual('m-prod', { tags: { Env: 'prod' } }),
          manual('m-prod-web', { tags: { Env: 'prod', Team: 'web' } }),
        ],
        node: web,
        expected: { kind: 'manual', policy: 'm-prod-web', durationMs: 2 * HOUR },
      },
    ],
    [
      'tag beats account + region (manual)',
      {
        policies: [
          manual('m-acct-region', { accounts: [web.account], regions: [web.region] }),
          manual('m-prod', { tags: { Env: 'prod' } }),
        ],
        node: web,
        expected: { kind: 'manual', policy: 'm-prod', durationMs: 2 * HOUR },
      },
    ],
    [
      'account beats all nodes (manual)',
      {
        policies: [manual('m-all', {}), manual('m-acct', { accounts: [web.account] })],
        node: web,
        expected: { kind: 'manual', policy: 'm-acct', durationMs: 2 * HOUR },
      },
    ],
    [
      'account + region beats account only (manual)',
      {
        policies: [
          manual('m-acct', { accounts: [web.account] }),
          manual('m-acct-region', { accounts: [web.account], regions: [web.region] }),
        ],
        node: web,
        expected: { kind: 'manual', policy: 'm-acct-region', durationMs: 2 * HOUR },
      },
    ],
    [
      'exact tag value beats "*" on the same key (manual)',
      {
        policies: [manual('m-env-any', { tags: { Env: '*' } }), manual('m-prod', { tags: { Env: 'prod' } })],
        node: web,
        expected: { kind: 'manual', policy: 'm-prod', durationMs: 2 * HOUR },
      },
    ],
    [
      'id beats tag (auto)',
      {
        policies: [
          auto('a-prod', { tags: { Env: 'prod' } }, undefined, HOUR),
          auto('a-web', { ids: [web.id] }, undefined, 2 * HOUR),
        ],
        node: web,
        expected: { kind: 'auto', policy: 'a-web', durationMs: 2 * HOUR },
      },
    ],
    [
      'a more specific policy that does not match the node is ignored',
      {
        policies: [manual('m-all', {}), manual('m-db', { ids: [db.id] })],
        node: web,
        expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR },
      },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('equally specific matches are ambiguous', () => {
  test.each<[string, Row]>([
    [
      'two one-tag manual policies name both',
      {
        policies: [manual('m-prod', { tags: { Env: 'prod' } }), manual('m-team-web', { tags: { Team: 'web' } })],
        node: web,
        expected: { kind: 'ambiguous', policies: ['m-prod', 'm-team-web'] },
      },
    ],
    [
      'two all-nodes auto policies name both',
      {
        policies: [auto('a-one', {}), auto('a-two', {})],
        node: web,
        expected: { kind: 'ambiguous', policies: ['a-one', 'a-two'] },
      },
    ],
    [
      'three tied: the first two in config order, ignoring a less specific one before them',
      {
        policies: [
          manual('m-all', {}),
          manual('m-prod', { tags: { Env: 'prod' } }),
          manual('m-team', { tags: { Team: 'web' } }),
          manual('m-name', { tags: { Name: 'web-1' } }),
        ],
        node: web,
        expected: { kind: 'ambiguous', policies: ['m-prod', 'm-team'] },
      },
    ],
    [
      'a tie below the top score is not ambiguous',
      {
        policies: [
          manual('m-prod', { tags: { Env: 'prod' } }),
          manual('m-team', { tags: { Team: 'web' } }),
          manual('m-web', { ids: [web.id] }),
        ],
        node: web,
        expected: { kind: 'manual', policy: 'm-web', durationMs: 2 * HOUR },
      },
    ],
    [
      'an ambiguous auto tie stops evaluation (does not fall through to manual)',
      {
        policies: [auto('a-one', {}), auto('a-two', {}), manual('m-web', { ids: [web.id] })],
        node: web,
        expected: { kind: 'ambiguous', policies: ['a-one', 'a-two'] },
      },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('requester groups', () => {
  const policies = [auto('a-sre', {}, ['sre', 'oncall']), manual('m-all', {})];
  test.each<[string, Row]>([
    [
      'in one of the groups → auto',
      { policies, node: web, groups: ['dev', 'oncall'], expected: { kind: 'auto', policy: 'a-sre', durationMs: HOUR } },
    ],
    [
      'in none of the groups → falls through to manual',
      { policies, node: web, groups: ['dev'], expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR } },
    ],
    [
      'no groups at all → falls through to manual',
      { policies, node: web, groups: [], expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR } },
    ],
    [
      'a deny limited to contractors refuses a contractor',
      {
        policies: [deny('d-contractors-prod', { tags: { Env: 'prod' } }, ['contractors']), manual('m-all', {})],
        node: web,
        groups: ['contractors'],
        expected: { kind: 'deny', policy: 'd-contractors-prod' },
      },
    ],
    [
      'the same deny lets an employee through',
      {
        policies: [deny('d-contractors-prod', { tags: { Env: 'prod' } }, ['contractors']), manual('m-all', {})],
        node: web,
        groups: ['employees'],
        expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR },
      },
    ],
    [
      'a more specific policy the requester is not in does not make a tie or win',
      {
        policies: [manual('m-all', {}), manual('m-web-sre', { ids: [web.id] }, ['sre'])],
        node: web,
        groups: ['dev'],
        expected: { kind: 'manual', policy: 'm-all', durationMs: 2 * HOUR },
      },
    ],
    [
      'an empty groups list admits nobody',
      { policies: [auto('a-nobody', {}, [])], node: web, groups: ['sre'], expected: { kind: 'none' } },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('target matching', () => {
  test.each<[string, Row]>([
    [
      '"*" tag value matches any value of a present key',
      {
        policies: [auto('a-team-any', { tags: { Team: '*' } })],
        node: web,
        expected: { kind: 'auto', policy: 'a-team-any', durationMs: HOUR },
      },
    ],
    [
      '"*" tag value does not match a missing key',
      { policies: [auto('a-team-any', { tags: { Team: '*' } })], node: db, expected: { kind: 'none' } },
    ],
    [
      'tag value must be equal',
      { policies: [auto('a-prod', { tags: { Env: 'prod' } })], node: devBox, expected: { kind: 'none' } },
    ],
    [
      'tag values are case-sensitive (as in AWS)',
      { policies: [auto('a-prod', { tags: { Env: 'PROD' } })], node: web, expected: { kind: 'none' } },
    ],
    [
      'every listed tag must match',
      {
        policies: [auto('a-prod-db', { tags: { Env: 'prod', Role: 'database' } })],
        node: web,
        expected: { kind: 'none' },
      },
    ],
    [
      'ids match case-insensitively',
      {
        policies: [auto('a-web', { ids: ['I-0ABC1234DEF567890'] })],
        node: web,
        expected: { kind: 'auto', policy: 'a-web', durationMs: HOUR },
      },
    ],
    [
      'an id list matches any of its members',
      {
        policies: [auto('a-two', { ids: [db.id, web.id] })],
        node: web,
        expected: { kind: 'auto', policy: 'a-two', durationMs: HOUR },
      },
    ],
    [
      'mi- managed node matched by id',
      {
        policies: [manual('m-onprem', { ids: ['mi-0123456789ABCDEF0'] })],
        node: onPrem,
        expected: { kind: 'manual', policy: 'm-onprem', durationMs: 2 * HOUR },
      },
    ],
    [
      'mi- managed node matched by tag',
      {
        policies: [manual('m-dc', { tags: { Site: 'shanghai-dc' } })],
        node: onPrem,
        expected: { kind: 'manual', policy: 'm-dc', durationMs: 2 * HOUR },
      },
    ],
    [
      'mi- managed node covered by all nodes',
      { policies: [deny('d-all', {})], node: onPrem, expected: { kind: 'deny', policy: 'd-all' } },
    ],
    [
      'account must be listed',
      { policies: [auto('a-acct', { accounts: ['111122223333'] })], node: devBox, expected: { kind: 'none' } },
    ],
    [
      'region must be listed',
      { policies: [auto('a-nw', { regions: ['cn-northwest-1'] })], node: web, expected: { kind: 'none' } },
    ],
    [
      'region listed matches',
      {
        policies: [auto('a-nw', { regions: ['cn-northwest-1'] })],
        node: devBox,
        expected: { kind: 'auto', policy: 'a-nw', durationMs: HOUR },
      },
    ],
    [
      'every given dimension must match (id right, account wrong)',
      {
        policies: [auto('a-mixed', { ids: [web.id], accounts: ['999999999999'] })],
        node: web,
        expected: { kind: 'none' },
      },
    ],
    [
      'an empty id list matches no node',
      { policies: [auto('a-empty', { ids: [] })], node: web, expected: { kind: 'none' } },
    ],
    [
      'an empty tag map is no condition',
      {
        policies: [auto('a-notags', { tags: {} })],
        node: web,
        expected: { kind: 'auto', policy: 'a-notags', durationMs: HOUR },
      },
    ],
  ])('%s', (_name, row) => {
    expect(run(row)).toEqual(row.expected);
  });
});

describe('specificity scale', () => {
  test.each<[string, number, TargetSelector]>([
    ['all nodes', 0, {}],
    ['empty tag map', 0, { tags: {} }],
    ['region', 10, { regions: ['cn-north-1'] }],
    ['account', 10, { accounts: ['111122223333'] }],
    ['account + region', 20, { accounts: ['111122223333'], regions: ['cn-north-1'] }],
    ['tag present ("*")', 50, { tags: { Team: '*' } }],
    ['tag value', 100, { tags: { Env: 'prod' } }],
    ['two tag values', 200, { tags: { Env: 'prod', Team: 'web' } }],
    ['ids', 100_000, { ids: ['i-1', 'i-2'] }],
    ['ids + tag + account', 100_110, { ids: ['i-1'], tags: { Env: 'prod' }, accounts: ['1'] }],
  ])('%s → %d', (_name, score, selector) => {
    expect(specificity(selector)).toBe(score);
  });

  test('50 tags (the AWS per-resource maximum) still rank below an id list', () => {
    const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v']));
    expect(specificity({ tags })).toBeLessThan(specificity({ ids: ['i-1'] }));
  });
});

describe('describeTargets', () => {
  test.each<[TargetSelector, string]>([
    [{}, 'all nodes'],
    [{ tags: {} }, 'all nodes'],
    [{ tags: { Env: 'prod' } }, 'Env=prod'],
    [{ tags: { Env: 'prod', Team: '*' } }, 'Env=prod, Team=*'],
    [{ ids: ['i-0abc', 'mi-0def'] }, 'i-0abc, mi-0def'],
    [{ ids: ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'] }, 'i-1, i-2, i-3 +2 more'],
    [{ tags: { Env: 'prod' }, accounts: ['111122223333'] }, 'Env=prod · account 111122223333'],
    [{ accounts: ['1', '2'], regions: ['cn-north-1'] }, 'accounts 1, 2 · region cn-north-1'],
    [{ ids: [] }, '(none)'],
  ])('%j → %s', (selector, text) => {
    expect(describeTargets(selector)).toBe(text);
  });
});
