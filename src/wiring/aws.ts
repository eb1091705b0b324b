import type { Logger } from 'pino';
import { AwsClients } from '../aws/clients';
import { AwsInventory } from '../aws/aws-inventory';
import { configuredPrincipals } from '../aws/configured-principals';
import { IamGranter } from '../aws/iam-granter';
import { SsmSessionTerminator } from '../aws/session-terminator';
import type { JitbotConfig } from '../config/types';
import type { Clock } from '../ports/clock';
import type { Granter } from '../ports/granter';
import type { Inventory } from '../ports/inventory';
import type { Store } from '../ports/store';
import { Reconciler } from '../services/reconciler';

// Part of the composition root (with src/app.ts): the one place where the AWS side meets the services.

export interface AwsParts {
  granter: Granter;
  inventory: Inventory;
  reconciler: Reconciler;
  clients: AwsClients;
}

/** The real AWS side: IAM grants, EC2/SSM inventory, session termination and reconciliation. */
export function awsParts(
  config: JitbotConfig,
  deps: { store: Store; clock: Clock; logger: Logger; owner: string },
): AwsParts {
  const accounts = config.aws.accounts.map((a) => a.id);
  const clients = new AwsClients({
    accounts: config.aws.accounts.map(({ id, assumeRoleArn, externalId }) => ({ id, assumeRoleArn, externalId })),
    region: config.aws.regions[0]!,
    now: () => deps.clock.now(),
  });
  const inventory = new AwsInventory({ clients, accounts, regions: config.aws.regions, now: () => deps.clock.now() });
  const sessions = new SsmSessionTerminator({ clients });
  const granter = new IamGranter({
    clients,
    store: deps.store,
    sessions,
    owner: deps.owner,
    clock: deps.clock,
    logger: deps.logger,
    accounts,
  });
  const reconciler = new Reconciler({
    granter,
    store: deps.store,
    clock: deps.clock,
    owner: deps.owner,
    logger: deps.logger,
    principals: configuredPrincipals(config.identities),
    accounts,
  });
  return { granter, inventory, reconciler, clients };
}
