import { BLOCK_KIT_LIMITS, renderBlockKit, type Block } from '../../../adapters/slack/block-kit';
import { safeMrkdwn, truncate } from '../../../adapters/slack/slack-text';
import type { ApprovalCard } from '../../../src/core/card';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import type { JitRequest } from '../../../src/core/model';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name', 'env'] };
const card = (overrides: Partial<JitRequest> = {}) => buildCard(makeRequest(overrides), context);

const HOSTILE = '<!channel> @here <@U123ABC> <https://evil.example|bank login> *bold* _it_ ~gone~ `code` & <#C999>';

/** Every text object (plain_text or mrkdwn) anywhere in the blocks, with its JSON path. */
function textObjects(value: unknown, path = '$'): { path: string; type: string; text: string }[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => textObjects(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own =
    (object.type === 'plain_text' || object.type === 'mrkdwn') && typeof object.text === 'string'
      ? [{ path, type: object.type, text: object.text }]
      : [];
  return [...own, ...Object.entries(object).flatMap(([key, child]) => textObjects(child, `${path}.${key}`))];
}

function richTexts(blocks: Block[]): string[] {
  return blocks.flatMap((block) =>
    block.type === 'rich_text' ? block.elements.flatMap((section) => section.elements.map((e) => e.text)) : [],
  );
}

const ofType = <T extends Block['type']>(blocks: Block[], type: T) =>
  blocks.filter((b): b is Extract<Block, { type: T }> => b.type === type);

test('a pending card: the whole message', () => {
  expect(renderBlockKit(card())).toMatchSnapshot();
});

test('a pending card shows the request, the node by Name and id, and Approve/Reject with a confirm', () => {
  const { text, blocks } = renderBlockKit(card());
  expect(text).toBe('JIT-7K3Q2 · web-1 — ⏳ Waiting for Level 1 of 1: ops-approvers');
  expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'JIT-7K3Q2 · web-1', emoji: true } });
  expect(blocks[1]).toEqual({
    type: 'section',
    text: { type: 'plain_text', text: '⏳ Waiting for Level 1 of 1: ops-approvers', emoji: true },
  });
  expect(blocks[2]).toEqual({
    type: 'context',
    elements: [{ type: 'plain_text', text: 'Level 1 of 1 · 0 of 1 approvals', emoji: true }],
  });

  const fields = ofType(blocks, 'section')
    .flatMap((s) => s.fields ?? [])
    .map((f) => f.text);
  const pairs = Object.fromEntries(
    Array.from({ length: fields.length / 2 }, (_, i) => [fields[2 * i], fields[2 * i + 1]]),
  );
  expect(pairs).toMatchObject({
    '*Requester*': 'Alice',
    '*Node*': 'web-1 (i-0123456789abcdef0)',
    '*Account*': '111122223333',
    '*Region*': 'cn-north-1',
    '*Duration*': '2h',
    '*Policy*': 'prod-manual',
  });
  expect(Object.values(pairs)).toEqual(expect.arrayContaining(['web-1', 'prod']));

  const [input] = ofType(blocks, 'input');
  expect(input).toMatchObject({
    block_id: 'jit_comment',
    optional: true,
    dispatch_action: false,
    element: { type: 'plain_text_input', action_id: 'comment', multiline: true, max_length: 500 },
  });

  const [actions] = ofType(blocks, 'actions');
  expect(actions!.elements.map((b) => [b.action_id, b.style, b.value])).toEqual([
    ['approve', 'primary', 'JIT-7K3Q2'],
    ['reject', 'danger', 'JIT-7K3Q2'],
  ]);
  const approve = actions!.elements[0]!;
  expect(approve.confirm).toMatchObject({
    title: { type: 'plain_text', text: expect.stringContaining('JIT-7K3Q2') },
    confirm: { type: 'plain_text' },
    deny: { type: 'plain_text' },
  });
  expect(actions!.elements[1]!.confirm).toBeUndefined();
});

test('whatever a person typed stays plain text: no mentions, links or formatting', () => {
  const request = makeRequest({ reason: HOSTILE });
  request.requester = { ...request.requester, displayName: '<!everyone> *Boss*' };
  request.target = { ...request.target, name: '<@U0ADMIN>', tags: { Name: '<https://x.example|web>', env: '*prod*' } };
  request.decisions = [
    {
      by: { platform: 'slack', userId: 'U1', displayName: '@here Bob' },
      roles: [],
      level: 0,
      verdict: 'approve',
      comment: HOSTILE,
      at: FIXTURE_NOW,
    },
  ];
  const { text, blocks } = renderBlockKit(buildCard(request, context));

  // Nothing typed by a person is in a mrkdwn object: those hold only our bold labels.
  for (const object of textObjects(blocks).filter((o) => o.type === 'mrkdwn')) {
    expect(object.text).toMatch(/^\*[^<>]*\*$/);
    expect(object.text).not.toMatch(/@here|@everyone|<|Boss|evil/);
  }
  // The reason and the comment are shown verbatim as rich text, which Slack never parses.
  expect(richTexts(blocks)).toEqual(expect.arrayContaining([`\n${HOSTILE}`, `\n“${HOSTILE}”`]));
  const plain = textObjects(blocks)
    .filter((o) => o.type === 'plain_text')
    .map((o) => o.text);
  expect(plain).toEqual(expect.arrayContaining(['<!everyone> *Boss*', '<https://x.example|web>']));
  // The notification fallback is mrkdwn: escaped, with the special mentions broken.
  expect(text).not.toMatch(/[<>]/);
  expect(safeMrkdwn(HOSTILE, 3000)).toBe(
    '&lt;!channel&gt; @\u2060here &lt;@U123ABC&gt; &lt;https://evil.example|bank login&gt; *bold* _it_ ~gone~ `code` &amp; &lt;#C999&gt;',
  );
});

test('after a decision the card has no buttons and no comment box, and shows who decided', () => {
  const request = makeRequest({
    status: 'rejected',
    decisions: [
      {
        by: { platform: 'slack', userId: 'U_BOB', displayName: 'Bob' },
        roles: ['ops-approvers'],
        level: 0,
        verdict: 'reject',
        comment: 'not during the freeze',
        at: FIXTURE_NOW,
      },
    ],
  });
  const { blocks } = renderBlockKit(buildCard(request, context));
  expect(ofType(blocks, 'actions')).toEqual([]);
  expect(ofType(blocks, 'input')).toEqual([]);
  expect(blocks[1]).toMatchObject({ text: { text: '❌ Rejected by Bob' } });
  expect(richTexts(blocks).join('')).toContain('“not during the freeze”');
});

test('an active card offers only Revoke', () => {
  const request = makeRequest({
    status: 'active',
    grant: {
      grantId: 'JIT-7K3Q2',
      startsAt: FIXTURE_NOW,
      expiresAt: FIXTURE_NOW + 7_200_000,
      dryRun: true,
      summary: 'dry run',
    },
  });
  const [actions] = ofType(renderBlockKit(buildCard(request, context)).blocks, 'actions');
  expect(actions!.elements.map((b) => [b.action_id, b.style, b.value])).toEqual([['revoke', 'danger', 'JIT-7K3Q2']]);
});

test("Slack's limits hold however large the card", () => {
  const long = (n: number) => 'x'.repeat(n);
  const base = card();
  const huge: ApprovalCard = {
    ...base,
    title: `🚀${long(1000)}`,
    statusText: long(5000),
    progress: long(5000),
    fields: Array.from({ length: 100 }, (_, i) => ({ label: `label ${i} ${long(3000)}`, value: long(5000) })),
    reason: long(10_000),
    decisions: Array.from({ length: 100 }, (_, i) => ({
      ...base.decisions[0],
      by: { platform: 'slack' as const, userId: `U${i}`, displayName: `P${i}` },
      verdict: 'approve' as const,
      text: long(3000),
      comment: long(3000),
      at: i,
    })),
    notices: Array.from({ length: 100 }, () => long(5000)),
    actions: base.actions.map((a) => ({
      ...a,
      label: long(500),
      ...(a.confirm && { confirm: { title: long(500), text: long(5000), confirm: long(100), deny: long(100) } }),
    })),
    commentInput: { label: long(5000), placeholder: long(500), maxLength: 100_000 },
    footer: long(5000),
  };
  const { text, blocks } = renderBlockKit(huge);
  const L = BLOCK_KIT_LIMITS;
  expect(blocks.length).toBeLessThanOrEqual(L.blocksPerMessage);
  expect(text.length).toBeLessThanOrEqual(L.fallbackText);

  const header = ofType(blocks, 'header')[0]!;
  expect(header.text.text.length).toBeLessThanOrEqual(L.headerText);
  expect(header.text.text.endsWith('…')).toBe(true);
  for (const section of ofType(blocks, 'section')) {
    if (section.text) expect(section.text.text.length).toBeLessThanOrEqual(L.sectionText);
    expect((section.fields ?? []).length).toBeLessThanOrEqual(L.fieldsPerSection);
    for (const field of section.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(L.fieldText);
  }
  for (const ctx of ofType(blocks, 'context'))
    for (const e of ctx.elements) expect(e.text.length).toBeLessThanOrEqual(L.contextText);
  const input = ofType(blocks, 'input')[0]!;
  expect(input.label.text.length).toBeLessThanOrEqual(L.inputLabel);
  expect(input.element.placeholder.text.length).toBeLessThanOrEqual(L.inputPlaceholder);
  expect(input.element.max_length).toBe(L.inputMaxLength);
  for (const button of ofType(blocks, 'actions')[0]!.elements) {
    expect(button.text.text.length).toBeLessThanOrEqual(L.buttonText);
    if (button.confirm) {
      expect(button.confirm.title.text.length).toBeLessThanOrEqual(L.confirmTitle);
      expect(button.confirm.text.text.length).toBeLessThanOrEqual(L.confirmText);
      expect(button.confirm.confirm.text.length).toBeLessThanOrEqual(L.confirmButton);
      expect(button.confirm.deny.text.length).toBeLessThanOrEqual(L.confirmButton);
    }
  }
  // Cut texts still keep the buttons: the message ends with the actions and the footer.
  expect(blocks.slice(-2).map((b) => b.type)).toEqual(['actions', 'context']);
});

test('texts are cut with "…" without splitting a character or an escape', () => {
  expect(truncate('abcdef', 4)).toBe('abc…');
  expect(truncate('ab😀cd', 4)).toBe('ab…');
  expect(truncate('short', 10)).toBe('short');
  expect(safeMrkdwn('a&b', 5)).toBe('a…');
  expect(safeMrkdwn('', 10)).toBe('—');
});
