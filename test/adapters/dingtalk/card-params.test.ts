import {
  CARD_CAPS,
  renderCardMarkdown,
  renderCardParams,
  renderDegradedCard,
} from '../../../adapters/dingtalk/card-params';
import { escapeMarkdown } from '../../../adapters/dingtalk/dingtalk-text';
import templateJson from '../../../adapters/dingtalk/card-template.json';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import type { JitRequest } from '../../../src/core/model';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';
import { visibleText } from './dingtalk-payloads';

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name', 'env'] };
const card = (overrides: Partial<JitRequest> = {}) => buildCard(makeRequest(overrides), context);

const HOSTILE =
  '@all @张三 <script>alert(1)</script> [bank](https://evil.example) **bold** # heading\n> quote `code` <font color=red>x</font> ![img](https://evil.example/a.png) | a | b |';
const CJK_256 = '紧急修复'.repeat(64);

/** The markdown with every backslash escape and word joiner undone: what a reader sees as text. */
const visible = visibleText;

test('a pending card: every template variable is a string, buttons Approve and Reject, the comment box open', () => {
  const params = renderCardParams(card());
  for (const value of Object.values(params)) expect(typeof value).toBe('string');
  expect(params).toMatchObject({
    requestId: 'JIT-7K3Q2',
    status: 'pending',
    statusText: '⏳ Waiting for Level 1 of 1: ops-approvers',
    canApprove: 'true',
    canReject: 'true',
    canRevoke: 'false',
    approveLabel: 'Approve',
    rejectLabel: 'Reject',
    showComment: 'true',
  });
  expect(params.lastMessage).toBe('JIT-7K3Q2 · web-1 · ⏳ Waiting for Level 1 of 1: ops-approvers');
  const seen = visible(params.markdown);
  expect(seen).toContain('JIT-7K3Q2 · web-1');
  expect(seen).toContain('**Requester:** Alice');
  expect(seen).toContain('**Node:** web-1 (i-0123456789abcdef0)');
  expect(seen).toContain('fix nginx');
});

test('after the decision the card loses its buttons and its comment box', () => {
  const decided = card({
    status: 'rejected',
    decisions: [
      {
        by: { platform: 'dingtalk', userId: 'ops7', displayName: 'Li Si' },
        roles: ['ops-approvers'],
        level: 0,
        verdict: 'reject',
        comment: 'not today',
        at: FIXTURE_NOW,
      },
    ],
  });
  const params = renderCardParams(decided);
  expect(params).toMatchObject({
    status: 'rejected',
    canApprove: 'false',
    canReject: 'false',
    canRevoke: 'false',
    showComment: 'false',
    commentLabel: '',
  });
  expect(visible(params.markdown)).toContain('“not today”');
});

test('an active grant offers Revoke only', () => {
  const params = renderCardParams(
    card({
      status: 'active',
      grant: {
        grantId: 'JIT-7K3Q2',
        startsAt: FIXTURE_NOW,
        expiresAt: FIXTURE_NOW + 7_200_000,
        dryRun: true,
        summary: 'dry run',
      },
    }),
  );
  expect(params).toMatchObject({ canApprove: 'false', canReject: 'false', canRevoke: 'true', revokeLabel: 'Revoke' });
});

test('hostile input stays literal text: no mention, link, image, HTML, heading, quote or table', () => {
  const request = makeRequest({ reason: HOSTILE });
  request.requester = { ...request.requester, displayName: '@all <b>Boss</b>' };
  request.target = {
    ...request.target,
    name: '[web](https://x.example)',
    tags: { Name: '[web](https://x.example)', env: '**prod**' },
  };
  request.decisions = [
    {
      by: { platform: 'dingtalk', userId: 'u1', displayName: '@all Bob' },
      roles: [],
      level: 0,
      verdict: 'approve',
      comment: HOSTILE,
      at: FIXTURE_NOW,
    },
  ];
  const { markdown } = renderCardParams(buildCard(request, context));

  // No raw markup survives: every markup character anyone typed is a character reference, and no "<" reaches the renderer.
  expect(markdown).not.toContain('<');
  expect(markdown).not.toMatch(/\[(?:bank|web|img)/);
  expect(markdown).not.toMatch(/\*\*(?:bold|prod)\*\*/);
  expect(markdown).not.toMatch(/^(?!####\s)#/m);
  expect(markdown).not.toMatch(/@(?!\u2060)/);
  expect(markdown.split('\n').filter((line) => line.startsWith('>'))).toEqual([
    expect.stringMatching(/^> ⚠️ /),
    expect.stringMatching(/^> “/),
  ]);
  // …and a reader still sees exactly what was typed.
  const seen = visible(markdown);
  expect(seen).toContain(
    '@all @张三 <script>alert(1)</script> [bank](https://evil.example) **bold** # heading\n> quote `code` <font color=red>x</font>',
  );
  expect(seen).toContain('**Requester:** @all <b>Boss</b>');
});

test('a reason line that starts with markdown block syntax cannot open a heading, quote or list', () => {
  const markdown = escapeMarkdown('# big\n> quoted\n- item\n1. first', 100);
  expect(markdown.split('\n')).toEqual(['&#35; big  ', '&#62; quoted  ', '&#45; item  ', '&#49;. first']);
  expect(escapeMarkdown('JIT-7K3Q2 web-1 i-0abc 2.5h', 100)).toBe('JIT-7K3Q2 web-1 i-0abc 2.5h');
});

test('256 CJK characters arrive whole; longer texts are cut with an ellipsis', () => {
  expect(visible(renderCardParams(card({ reason: CJK_256 })).markdown)).toContain(CJK_256);
  const long = renderCardMarkdown(card({ reason: '长'.repeat(CARD_CAPS.reason + 50) }));
  expect(visible(long)).toContain('长'.repeat(CARD_CAPS.reason - 1) + '…');
  expect(visible(long)).not.toContain('长'.repeat(CARD_CAPS.reason));
});

test('control and direction-override characters are removed', () => {
  expect(escapeMarkdown('a\u202Eb\u0007c', 10)).toBe('abc');
});

test('degraded mode: the markdown plus the typed commands that decide, only while a decision can be made', () => {
  const pending = renderDegradedCard(card(), 'jitbot');
  expect(pending.title).toBe('JIT-7K3Q2 · web-1');
  expect(visible(pending.text)).toContain('@jitbot approve JIT-7K3Q2 …');
  expect(visible(pending.text)).toContain('@jitbot reject JIT-7K3Q2 …');
  const decided = renderDegradedCard(card({ status: 'cancelled' }), 'jitbot');
  expect(visible(decided.text)).not.toContain('approve JIT');
});

test('the shipped template declares every variable the renderer fills, and its buttons send what the callback reads', () => {
  interface Node {
    componentName: string;
    props: Record<string, any>;
    children?: Node[];
  }
  const editor = JSON.parse((templateJson as { editorData: string }).editorData) as {
    variableList: { name: string; private: boolean }[];
    localList: { name: string }[];
    schema: { componentsTree: Node[] };
  };
  const publicVariables = editor.variableList.filter((v) => !v.private).map((v) => v.name);
  expect(publicVariables.sort()).toEqual(Object.keys(renderCardParams(card())).sort());
  expect(editor.variableList.filter((v) => v.private).map((v) => v.name)).toEqual(['note']);

  const nodes = (node: Node): Node[] => [node, ...(node.children ?? []).flatMap(nodes)];
  const all = editor.schema.componentsTree.flatMap(nodes);
  const input = all.find((n) => n.componentName === 'Input')!;
  const commentVariable = input.props.localVarAction.variable;
  expect(editor.localList.map((l) => l.name)).toContain(commentVariable);

  const buttons = all.filter((n) => n.componentName === 'ButtonBlock').flatMap((n) => n.props.buttons as any[]);
  expect(buttons.map((b) => b.id)).toEqual(['approve', 'reject', 'revoke']);
  for (const button of buttons) {
    expect(button.actionType).toBe('request');
    const params = Object.fromEntries(
      (button.params as any[]).map((p) => [p.name, p.type === 'fixed' ? p.value : `$${p.variable}`]),
    );
    expect(params).toEqual({ action: button.id, requestId: '$requestId', comment: `$${commentVariable}` });
    const [flag] = button.visible.condition.conditions;
    expect(flag).toMatchObject({
      op: 'equal',
      value: 'true',
      variable: `can${button.id[0].toUpperCase()}${button.id.slice(1)}`,
    });
  }
});
