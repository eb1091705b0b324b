import path from 'node:path';
import { checkImports, describeViolation, importsOf, readSources, type SourceFile } from './support/import-rules';

// Imports run one way: core ← ports ← services ← composition root, and adapters see only the ports, the core,
// the HTTP server they mount on and adapters/shared. The rules are in support/import-rules.ts.

const ROOT = path.resolve(__dirname, '..');

describe('the import rules hold for the code base', () => {
  const sources = readSources(ROOT, ['src', 'adapters']);

  test('every import of src/ and adapters/ runs the allowed way', () => {
    expect(checkImports(sources).map(describeViolation)).toEqual([]);
  });

  test('the scan sees the code base (a scan of nothing would pass the test above)', () => {
    const files = new Set(sources.map((s) => s.path));
    for (const expected of [
      'src/core/model.ts',
      'src/ports/granter.ts',
      'src/services/jit-service.ts',
      'adapters/slack/slack-adapter.ts',
    ]) {
      expect(files).toContain(expected);
    }
    const service = sources.find((s) => s.path === 'src/services/jit-service.ts')!;
    expect(importsOf(service.path, service.text).map((i) => i.specifier)).toContain('../core/command');
  });
});

describe('the import rules catch wrong-way imports (self-check)', () => {
  const check = (file: string, text: string) => checkImports([{ path: file, text }]).map(describeViolation);

  test.each<[string, string, string]>([
    [
      'src/core/identity.ts',
      "import type { IdentityRule } from '../config/types';",
      "src/core/identity.ts:1 imports '../config/types': src/core is pure",
    ],
    ['src/core/clock.ts', "import { readFileSync } from 'node:fs';", "imports 'node:fs': src/core is pure"],
    ['src/core/clock.ts', "import fs from 'fs';", "imports 'fs': src/core is pure"],
    ['src/core/parse.ts', "import { z } from 'zod';", "imports 'zod': src/core is pure"],
    [
      'src/ports/chat.ts',
      "export type { Locale } from '../config/types';",
      "imports '../config/types': src/ports imports only src/core and src/ports",
    ],
    [
      'src/ports/adapter-module.ts',
      "import { z } from 'zod';",
      "imports 'zod': src/ports imports only src/core and src/ports",
    ],
    [
      'src/ports/adapter-module.ts',
      "import { type z, ZodError } from 'zod';",
      "imports 'zod': src/ports imports only src/core and src/ports",
    ],
    [
      'src/ports/adapter-module.ts',
      "import type { Server } from 'node:http';",
      "imports 'node:http': src/ports imports only src/core and src/ports",
    ],
    [
      'src/http/server.ts',
      "import type { Store } from '../ports/store';",
      "imports '../ports/store': src/http (the server adapters mount on)",
    ],
    [
      'src/services/outbox.ts',
      "const granter = require('../aws/iam-granter');",
      "imports '../aws/iam-granter': src/services do not import",
    ],
    [
      'src/services/outbox.ts',
      "const slack = await import('../../adapters/slack/slack-adapter');",
      "imports '../../adapters/slack/slack-adapter': src/services",
    ],
    [
      'src/services/outbox.ts',
      "type A = import('../aws/clients').AwsClients;",
      "imports '../aws/clients': src/services",
    ],
    ['src/services/outbox.ts', "import { startJitbot } from '../app';", "imports '../app': src/services"],
    [
      'src/aws/iam-granter.ts',
      "import reconciler = require('../services/reconciler');",
      "imports '../services/reconciler': src/aws does not import",
    ],
    [
      'src/config/normalise.ts',
      "import { partitionOf } from '../aws/partition';",
      "imports '../aws/partition': src/config does not import src/aws",
    ],
    [
      'src/store/dynamo-store.ts',
      "import { OutboxWorker } from '../services/outbox';",
      "imports '../services/outbox': src/store implements a port",
    ],
    [
      'adapters/slack/inbound.ts',
      "export * from '../console/render';",
      "imports '../console/render': adapters/slack imports only its own folder",
    ],
    [
      'adapters/slack/inbound.ts',
      "import type { JitService } from '../../src/services/jit-service';",
      "imports '../../src/services/jit-service': adapters/slack",
    ],
    [
      'adapters/slack/inbound.ts',
      "import type { JitbotConfig } from '../../src/config/types';",
      "imports '../../src/config/types': adapters/slack",
    ],
    [
      'adapters/shared/dispatch.ts',
      "import { renderBlockKit } from '../slack/block-kit';",
      "imports '../slack/block-kit': adapters/shared imports only its own folder",
    ],
    [
      'src/store/table.ts',
      "import { fakeSlack } from '../../test/support/fake-slack';",
      "imports '../../test/support/fake-slack': production code does not import test/",
    ],
    [
      'src/app.ts',
      "import { SlackAdapter } from '../adapters/slack/slack-adapter';",
      "imports '../adapters/slack/slack-adapter': only src/app.ts and src/cli import from adapters/, and only the list",
    ],
    [
      'src/config/load.ts',
      "import { ADAPTERS } from '../../adapters';",
      "imports '../../adapters': only src/app.ts and src/cli import from adapters/",
    ],
    [
      'src/cli/program.ts',
      'const module = await import(name);',
      'src/cli/program.ts:1 imports a computed path: a computed import cannot be checked',
    ],
  ])('%s: %s', (file, text, expected) => {
    const violations = check(file, text);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain(expected);
  });

  test('names the line of the import', () => {
    expect(
      check('src/core/x.ts', "import { a } from './a';\n\n// why\nimport type { B } from '../services/b';\n"),
    ).toEqual([
      "src/core/x.ts:4 imports '../services/b': src/core is pure: it imports only src/core (and node:crypto)",
    ]);
  });

  test('allowed imports pass', () => {
    const allowed: SourceFile[] = [
      {
        path: 'src/core/audit-chain.ts',
        text: "import { createHash } from 'node:crypto';\nimport type { Node } from './model';\nimport { t } from './i18n/catalog';",
      },
      {
        path: 'src/ports/store.ts',
        text: "import type { JitRequest } from '../core/model';\nexport type { DueKind } from '../core/deadlines';\nimport type { Clock } from './clock';",
      },
      {
        path: 'src/ports/adapter-module.ts',
        text: "import type { Logger } from 'pino';\nimport { type z, type ZodObject } from 'zod';\ntype S = import('express').Express;\nexport type { Level } from 'pino';",
      },
      {
        path: 'src/http/server.ts',
        text: "import http from 'node:http';\nimport express from 'express';\nimport { jsonBody } from './middleware';",
      },
      {
        path: 'src/services/outbox.ts',
        text: "import type { JitbotConfig } from '../config/types';\nimport type { Granter } from '../ports/granter';\nimport pino from 'pino';",
      },
      {
        path: 'src/aws/iam-granter.ts',
        text: "import type { IdentityRule } from '../config/types';\nimport { IAMClient } from '@aws-sdk/client-iam';\nimport type { Store } from '../ports/store';",
      },
      {
        path: 'adapters/slack/web-api.ts',
        text: [
          "import { createHmac } from 'node:crypto';",
          "import { WebClient } from '@slack/web-api';",
          "import type { ChatAdapter } from '../../src/ports/chat';",
          "import type { ApprovalCard } from '../../src/core/card';",
          "import type { HttpMount } from '../../src/http/server';",
          "import { renderPlainText } from '../shared/plain-text';",
          "import { CardVersions } from './card-versions';",
        ].join('\n'),
      },
      {
        path: 'adapters/index.ts',
        text: "import { slack } from './slack';\nimport { console } from './console/console-adapter';\nimport type { ChatAdapter } from '../src/ports/chat';",
      },
      { path: 'src/app.ts', text: "import { ADAPTERS } from '../adapters';\nimport { awsParts } from './wiring/aws';" },
      { path: 'src/cli/program.ts', text: "import { ADAPTERS } from '../../adapters/index';" },
    ];
    expect(checkImports(allowed).map(describeViolation)).toEqual([]);
  });
});
