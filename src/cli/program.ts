import { Command, Option } from 'commander';
import pino from 'pino';
import { ADAPTERS } from '../../adapters';
import { startJitbot, storeOptions } from '../app';
import { formatWarningLine, jitbotJsonSchema, loadConfig, type LoadedConfig } from '../config/load';
import type { JitbotConfig } from '../config/types';
import { ChannelRoles } from '../services/channel-roles';
import { PLATFORMS, type Platform } from '../core/model';
import { verifyAuditChain } from '../core/audit-chain';
import { openStore } from '../store/open-store';
import { botPolicy, requesterBasePolicy } from '../aws/base-policy';
import { AwsClients } from '../aws/clients';
import { runDoctor } from '../aws/doctor';
import { configuredPrincipals } from '../aws/configured-principals';
import type { Partition } from '../core/partition';
import { auditToCsv, auditToJsonl, parseSince } from './audit-export';

// `jitbot` — the server and the admin commands. Every command reads the same config as the server.

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: (text: string) => void;
  now: () => number;
  /** Runs the server until a signal (not used by tests). */
  onServerStarted?: (stop: () => Promise<void>) => void;
}

export class CliError extends Error {}

/** The `jitbot` command line, with its input and output injected so tests run it in-process. */
export function buildProgram(io: CliIo): Command {
  const program = new Command();
  program
    .exitOverride()
    .name('jitbot')
    .description('Just-in-time Session Manager access, requested and approved in chat.')
    .option('-c, --config <file>', 'config file (default: $JITBOT_CONFIG, ./jitbot.yaml, or the built-in demo)');

  function load(options: { offline?: boolean } = {}): LoadedConfig {
    const { config: path } = program.opts<{ config?: string }>();
    return loadConfig({ path, env: io.env, adapters: ADAPTERS, offline: options.offline ?? false });
  }

  async function withStore<T>(
    config: JitbotConfig,
    work: (store: Awaited<ReturnType<typeof openStore>>['store']) => Promise<T>,
  ): Promise<T> {
    const opened = await openStore(storeOptions(config));
    try {
      return await work(opened.store);
    } finally {
      await opened.close();
    }
  }

  program
    .command('start')
    .description('run the server (the local console at http://127.0.0.1:3000 on the demo config)')
    .option('--in-memory', 'keep the embedded store in memory instead of ./.jitbot/')
    .action(async (options: { inMemory?: boolean }) => {
      const { config, source, warnings } = load();
      const logger = pino({ level: io.env.LOG_LEVEL ?? 'info' });
      for (const warning of warnings) logger.warn({ config: source, path: warning.path }, warning.message);
      if (options.inMemory && config.store.kind === 'embedded') config.store = { ...config.store, inMemory: true };
      const running = await startJitbot({ config, logger, adapterModules: ADAPTERS });
      logger.info({ config: source, store: running.storeDescription, url: running.url }, 'jitbot is running');
      for (const module of ADAPTERS) {
        if (config.adapters[module.name] !== undefined && module.startupNote)
          io.stdout(module.startupNote(running.url));
      }
      io.onServerStarted?.(async () => {
        logger.info('stopping');
        await running.stop();
      });
    });

  const configCommand = program.command('config').description('check or describe the config');
  configCommand
    .command('validate')
    .description('load and check the config; prints every problem and warning with its key path')
    .option('--offline', 'check without the environment: secret references are checked for their form, not read (CI)')
    .action((options: { offline?: boolean }) => {
      const offline = options.offline ?? false;
      const { config, source, warnings } = load({ offline });
      for (const warning of warnings) io.stdout(`${formatWarningLine(source, warning)}\n`);
      const facts = [
        `${config.policies.length} policies`,
        `${Object.keys(config.roles).length} roles`,
        `adapters: ${Object.keys(config.adapters).join(', ') || 'none'}`,
        ...(config.aws.dryRun ? ['dry run (no AWS account)'] : []),
        ...(offline ? ['offline (secrets not read)'] : []),
        ...(warnings.length > 0 ? [`${warnings.length} warning${warnings.length === 1 ? '' : 's'}`] : []),
      ];
      io.stdout(`${source}: OK — ${facts.join(', ')}\n`);
    });
  configCommand
    .command('schema')
    .description('print the JSON Schema of jitbot.yaml (for editors)')
    .action(() => {
      io.stdout(`${JSON.stringify(jitbotJsonSchema(ADAPTERS), null, 2)}\n`);
    });

  const platformOption = () =>
    new Option('-p, --platform <platform>', 'chat platform').choices([...PLATFORMS]).makeOptionMandatory();
  const channels = program.command('channels').description('which chat channel speaks for which approver role');
  channels
    .command('list')
    .description('effective mappings (runtime mappings win over the config file)')
    .action(async () => {
      const { config } = load();
      const mappings = await withStore(config, (store) => new ChannelRoles(store, config).all());
      if (mappings.length === 0) io.stdout('no channels are mapped\n');
      for (const m of mappings) io.stdout(`${m.platform}\t${m.channelId}\t${m.role}\t${m.source}\n`);
    });
  channels
    .command('map <channel> <role>')
    .description('make a channel speak for a role (stored and audited)')
    .addOption(platformOption())
    .action(async (channelId: string, role: string, options: { platform: Platform }) => {
      const { config } = load();
      if (!Object.hasOwn(config.roles, role)) {
        throw new CliError(`there is no approver role "${role}"; roles: ${Object.keys(config.roles).join(', ')}`);
      }
      await withStore(config, (store) =>
        new ChannelRoles(store, config).map({ platform: options.platform, channelId }, role, 'cli', io.now()),
      );
      io.stdout(`${options.platform} ${channelId} → ${role}\n`);
    });
  channels
    .command('unmap <channel>')
    .description('stop a channel speaking for its role')
    .addOption(platformOption())
    .action(async (channelId: string, options: { platform: Platform }) => {
      const { config } = load();
      const removed = await withStore(config, (store) =>
        new ChannelRoles(store, config).unmap({ platform: options.platform, channelId }, 'cli', io.now()),
      );
      if (!removed) throw new CliError(`${options.platform} ${channelId} is not mapped to any role`);
      io.stdout(`${options.platform} ${channelId} unmapped\n`);
    });

  const iam = program.command('iam').description('IAM set-up for requesters and for jitbot itself');
  iam
    .command('base-policy')
    .description('print the static policy admins attach once (to requesters, or to the bot)')
    .addOption(new Option('--for <who>', 'whose policy').choices(['requesters', 'bot']).default('requesters'))
    .action((options: { for: 'requesters' | 'bot' }) => {
      const { config } = load();
      const partition = config.aws.partition as Partition;
      const accounts = config.aws.accounts.map((a) => a.id);
      const document =
        options.for === 'bot'
          ? botPolicy(partition, {
              accounts,
              ssoPolicyNames: config.identities.flatMap((i) =>
                i.principal.kind === 'sso-permission-set' ? [i.principal.policyName] : [],
              ),
              assumeRoleArns: config.aws.accounts.flatMap((a) => (a.assumeRoleArn ? [a.assumeRoleArn] : [])),
            })
          : requesterBasePolicy(partition, { regions: config.aws.regions, accounts });
      io.stdout(`${JSON.stringify(document, null, 2)}\n`);
    });

  program
    .command('doctor')
    .description('check credentials, partition, table and requesters (warns about standing ssm:StartSession)')
    .action(async () => {
      const { config } = load();
      if (config.aws.dryRun) {
        io.stdout('dry run: no aws section in the config, so there is nothing to check on the AWS side\n');
        return;
      }
      const clients = new AwsClients({ accounts: config.aws.accounts, region: config.aws.regions[0]! });
      try {
        const checks = await runDoctor({
          clients,
          principals: configuredPrincipals(config.identities),
          accounts: config.aws.accounts.map((a) => a.id),
          checkTable: () => withStore(config, async () => undefined),
        });
        for (const check of checks)
          io.stdout(
            `${check.ok ? 'ok  ' : check.severity === 'error' ? 'FAIL' : 'warn'}  ${check.name}: ${check.detail}\n`,
          );
        if (checks.some((c) => !c.ok && c.severity === 'error'))
          throw new CliError('doctor found problems that stop grants from working');
      } finally {
        clients.destroy();
      }
    });

  const audit = program.command('audit').description('the hash-chained audit trail');
  audit
    .command('export')
    .description('print audit events')
    .option('--since <when>', 'ISO date/time, or a duration back from now (e.g. 7d)')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .action(async (options: { since?: string; format: 'jsonl' | 'csv' }) => {
      const { config } = load();
      const from = options.since === undefined ? undefined : since(options.since);
      const events = await withStore(config, (store) => store.listAudit({ since: from }));
      io.stdout(options.format === 'csv' ? auditToCsv(events) : auditToJsonl(events));
    });
  audit
    .command('verify')
    .description(
      'check that no audit event was altered, reordered or removed (also the newest and the oldest retained)',
    )
    .action(async () => {
      const { config } = load();
      const { events, anchors } = await withStore(config, async (store) => {
        // The head is read before the events (a server may append meanwhile: newer events are fine) and the
        // pruning point after them (events pruned meanwhile are still in the list, which is fine too).
        const { head } = await store.getAuditAnchors();
        const listed = await store.listAudit();
        const { pruned } = await store.getAuditAnchors();
        return { events: listed, anchors: { head, pruned } };
      });
      const result = verifyAuditChain(events, anchors);
      if (!result.ok) throw new CliError(`audit chain broken at event ${result.brokenAt}: ${result.reason}`);
      io.stdout(`audit chain intact: ${result.count} events\n`);
    });

  function since(text: string): number {
    const at = parseSince(text, io.now());
    if (at === undefined)
      throw new CliError(
        `--since "${text}" is neither a date (2026-01-31, 2026-01-31T08:00:00Z) nor a duration (7d, 12h)`,
      );
    return at;
  }

  return program;
}
