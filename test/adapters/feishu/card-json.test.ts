import {
  CARD_CAPS,
  MAX_CARD_BYTES,
  renderFeishuCard,
  type ButtonElement,
  type CardElement,
  type FeishuCard,
  type InputElement,
} from '../../../adapters/feishu/card-json';
import { fitText, inert } from '../../../adapters/feishu/feishu-text';
import type { ApprovalCard } from '../../../src/core/card';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import type { JitRequest } from '../../../src/core/model';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name', 'env'] };
const feishuRequester = {
  platform: 'feishu' as const,
  userId: 'on_alice',
  displayName: 'Alice',
  email: 'alice@example.com',
  groups: ['developers'],
};
const card = (overrides: Partial<JitRequest> = {}) =>
  buildCard(makeRequest({ requester: feishuRequester, ...overrides }), context);

const HOSTILE =
  '<at id=all></at> @all @所有人 <at user_id="ou_boss">Boss</at> **bold** [bank](https://evil.example) <font color=red>x</font> <script>alert(1)</script> & :OK:';
const CJK_256 = '紧急修复'.repeat(64);

/** Every `tag` used anywhere in the card. */
function tags(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(tags);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  return [...(typeof object.tag === 'string' ? [object.tag] : []), ...Object.values(object).flatMap(tags)];
}

/** Every text object's content. */
function texts(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(texts);
  if (value === null || typeof value !== 'object') return [];
  const object = value as Record<string, unknown>;
  const own = object.tag === 'plain_text' && typeof object.content === 'string' ? [object.content] : [];
  return [...own, ...Object.values(object).flatMap(texts)];
}

type AnyElement = CardElement | ButtonElement | InputElement;

function find<T extends AnyElement['tag']>(rendered: FeishuCard, tag: T): Extract<AnyElement, { tag: T }>[] {
  const found: AnyElement[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      if ((value as { tag?: unknown }).tag === tag) found.push(value as AnyElement);
      Object.values(value).forEach(walk);
    }
  };
  walk(rendered.body.elements);
  return found as Extract<AnyElement, { tag: T }>[];
}

const withoutJoiners = (text: string) => text.replace(/\u2060/g, '');

test('a pending card: the whole card', () => {
  expect(renderFeishuCard(card())).toMatchSnapshot();
});

test('a pending card is a shared JSON 2.0 card with an orange header, the requester, the node and a comment form', () => {
  const rendered = renderFeishuCard(card());
  expect(rendered.schema).toBe('2.0');
  expect(rendered.config.update_multi).toBe(true);
  expect(rendered.header).toEqual({
    title: { tag: 'plain_text', content: 'JIT-7K3Q2 · web-1' },
    subtitle: { tag: 'plain_text', content: '⏳ Waiting for Level 1 of 1: ops-approvers' },
    template: 'orange',
  });
  expect(find(rendered, 'person')).toEqual([
    { tag: 'person', user_id: 'on_alice', size: 'small', show_avatar: true, show_name: true, style: 'capsule' },
  ]);

  const fieldTexts = find(rendered, 'div').flatMap((div) =>
    'fields' in div ? div.fields.map((f) => f.text.content) : [],
  );
  expect(fieldTexts).toEqual(
    expect.arrayContaining([
      'Node\nweb-1 (i-0123456789abcdef0)',
      'Account\n111122223333',
      'Region\ncn-north-1',
      'Duration\n2h',
      'Policy\nprod-manual',
    ]),
  );
  expect(texts(rendered)).toEqual(expect.arrayContaining(['Level 1 of 1 · 0 of 1 approvals', 'fix nginx']));

  const [form] = find(rendered, 'form');
  expect(form).toMatchObject({ name: 'jit_decision' });
  expect(find(rendered, 'input')).toEqual([
    expect.objectContaining({ name: 'comment', required: false, max_length: 500 }),
  ]);
  const buttons = find(rendered, 'button');
  expect(buttons.map((b) => [b.name, b.type, b.form_action_type, b.behaviors])).toEqual([
    [
      'approve',
      'primary_filled',
      'submit',
      [{ type: 'callback', value: { action: 'approve', requestId: 'JIT-7K3Q2' } }],
    ],
    ['reject', 'danger', 'submit', [{ type: 'callback', value: { action: 'reject', requestId: 'JIT-7K3Q2' } }]],
  ]);
  // The buttons are inside the form, so a click submits the comment with it.
  expect(find({ ...rendered, body: { elements: [form!] } }, 'button')).toHaveLength(2);
  expect(buttons[0]!.confirm?.title.content).toContain('JIT-7K3Q2');
});

test('whatever a person typed stays plain text: the card has no markdown, and no mention can form', () => {
  const request = makeRequest({
    requester: { ...feishuRequester, displayName: '<at id=all></at> *Boss*' },
    reason: HOSTILE,
  });
  request.target = {
    ...request.target,
    name: '<at id=all></at>',
    tags: { Name: '[web](https://x.example)', env: '**prod**' },
  };
  request.decisions = [
    {
      by: { platform: 'feishu', userId: 'on_bob', displayName: '@all Bob' },
      roles: [],
      level: 0,
      verdict: 'approve',
      comment: HOSTILE,
      at: FIXTURE_NOW,
    },
  ];
  const rendered = renderFeishuCard(buildCard(request, context));

  expect(new Set(tags(rendered))).toEqual(
    new Set(['plain_text', 'div', 'person', 'form', 'input', 'column_set', 'column', 'button']),
  );
  const all = texts(rendered);
  for (const content of all) {
    expect(content).not.toMatch(/<at\b|<\/at>|<font|<script|@all|@所有人/i);
  }
  // Shown as typed, apart from invisible word joiners.
  expect(all.map(withoutJoiners)).toEqual(expect.arrayContaining([HOSTILE]));
  expect(all.map(withoutJoiners).some((t) => t.includes(`“${HOSTILE}”`))).toBe(true);
});

test('256 CJK characters are shown whole, and longer texts end in "…"', () => {
  expect(texts(renderFeishuCard(card({ reason: CJK_256 })))).toContain(CJK_256);
  const long = texts(renderFeishuCard(card({ reason: CJK_256.repeat(20) }))).find((t) => t.startsWith('紧急修复紧急'))!;
  expect(Array.from(long)).toHaveLength(CARD_CAPS.reason);
  expect(long.endsWith('…')).toBe(true);
});

test('after a decision the card has a red header, no form and no buttons, and shows who decided', () => {
  const rendered = renderFeishuCard(
    card({
      status: 'rejected',
      decisions: [
        {
          by: { platform: 'feishu', userId: 'on_bob', displayName: 'Bob' },
          roles: ['ops-approvers'],
          level: 0,
          verdict: 'reject',
          comment: 'not during the freeze',
          at: FIXTURE_NOW,
        },
      ],
    }),
  );
  expect(rendered.header.template).toBe('red');
  expect(rendered.header.subtitle.content).toBe('❌ Rejected by Bob');
  expect(find(rendered, 'form')).toEqual([]);
  expect(find(rendered, 'button')).toEqual([]);
  expect(texts(rendered).join('\n')).toContain('“not during the freeze”');
});

test('an active card is green and offers only Revoke, a plain button outside any form', () => {
  const rendered = renderFeishuCard(
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
  expect(rendered.header.template).toBe('green');
  expect(find(rendered, 'form')).toEqual([]);
  expect(find(rendered, 'button').map((b) => [b.name, b.type, b.form_action_type, b.behaviors[0].value])).toEqual([
    ['revoke', 'danger', undefined, { action: 'revoke', requestId: 'JIT-7K3Q2' }],
  ]);
});

test('a card for another platform shows no person component', () => {
  expect(find(renderFeishuCard(buildCard(makeRequest(), context)), 'person')).toEqual([]);
});

test('the card stays small however large its texts', () => {
  const long = (n: number) => '字'.repeat(n);
  const base = card();
  const huge: ApprovalCard = {
    ...base,
    title: long(1000),
    statusText: long(5000),
    fields: Array.from({ length: 100 }, (_, i) => ({ label: `label ${i} ${long(300)}`, value: long(5000) })),
    reason: long(10_000),
    decisions: Array.from({ length: 100 }, (_, i) => ({
      by: { platform: 'feishu' as const, userId: `on_${i}`, displayName: `P${i}` },
      verdict: 'approve' as const,
      text: long(3000),
      comment: long(3000),
      at: i,
    })),
    notices: Array.from({ length: 100 }, () => long(5000)),
    commentInput: { label: long(500), placeholder: long(500), maxLength: 100_000 },
    footer: long(5000),
  };
  const rendered = renderFeishuCard(huge);
  expect(find(rendered, 'input')[0]!.max_length).toBe(CARD_CAPS.inputMaxLength);
  expect(find(rendered, 'button')).toHaveLength(2);
  // Feishu refuses cards over 30 KB of JSON: long texts shrink (ending in "…") until it fits.
  expect(Buffer.byteLength(JSON.stringify(rendered))).toBeLessThanOrEqual(MAX_CARD_BYTES);
  expect(texts(rendered).some((t) => t.startsWith('字字') && t.endsWith('…'))).toBe(true);
  expect(rendered.header.title.content.endsWith('…')).toBe(true);
});

test('inert() breaks tags and special mentions with an invisible joiner; fitText never returns empty', () => {
  expect(inert('<at id=all></at> a < b @all @所有人 mail@example.com')).toBe(
    '<\u2060at id=all><\u2060/at> a < b @\u2060all @\u2060所有人 mail@example.com',
  );
  expect(fitText('   ', 10)).toBe('—');
  expect(fitText('ab\u202Ecd\u0007', 10)).toBe('abcd');
});
