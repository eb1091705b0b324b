import {
  CARD_CAPS,
  renderAdaptiveCard,
  type AdaptiveCard,
  type CardElement,
} from '../../../adapters/teams/adaptive-card';
import { cardResponse, messageResponse } from '../../../adapters/teams/invoke-response';
import { markdownText, messageText } from '../../../adapters/teams/teams-text';
import type { ApprovalCard } from '../../../src/core/card';
import { buildCard, type CardContext } from '../../../src/core/card-builder';
import type { JitRequest } from '../../../src/core/model';
import { FIXTURE_NOW, makeRequest } from '../../support/fixtures';

const context: CardContext = { locale: 'en', timeZone: 'UTC', dryRun: true, cardTags: ['Name', 'env'] };
const card = (overrides: Partial<JitRequest> = {}) => buildCard(makeRequest(overrides), context);

const HOSTILE =
  '<at>Everyone</at> @General **bold** _it_ [bank login](https://evil.example) https://evil.example <script>alert(1)</script> {{DATE(2017-02-14T06:08:39Z, SHORT)}} # head\n- item';
const CJK_256 = '漢'.repeat(256);

const ofType = <T extends CardElement['type']>(rendered: AdaptiveCard, type: T) =>
  rendered.body.filter((e): e is Extract<CardElement, { type: T }> => e.type === type);
const runs = (rendered: AdaptiveCard) => ofType(rendered, 'RichTextBlock').flatMap((b) => b.inlines.map((r) => r.text));
const markdownPlaces = (rendered: AdaptiveCard) => [
  ...ofType(rendered, 'TextBlock').map((b) => b.text),
  ...ofType(rendered, 'FactSet').flatMap((f) => f.facts.flatMap((fact) => [fact.title, fact.value])),
];

test('a pending card: the whole Adaptive Card', () => {
  expect(renderAdaptiveCard(card())).toMatchSnapshot();
});

test('a pending card is version 1.5 with the request, a comment box and Approve/Reject as Action.Execute carrying only the request id', () => {
  const rendered = renderAdaptiveCard(card());
  expect(rendered).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
  expect(ofType(rendered, 'TextBlock')[0]!.text).toBe('JIT-7K3Q2 · web-1');
  const facts = Object.fromEntries(ofType(rendered, 'FactSet')[0]!.facts.map((f) => [f.title, f.value]));
  expect(facts).toMatchObject({
    Requester: 'Alice',
    Node: 'web-1 (i-0123456789abcdef0)',
    Account: '111122223333',
    Region: 'cn-north-1',
    Duration: '2h',
    Policy: 'prod-manual',
  });
  expect(runs(rendered)).toEqual(expect.arrayContaining(['fix nginx']));
  expect(ofType(rendered, 'Input.Text')).toEqual([
    {
      type: 'Input.Text',
      id: 'comment',
      label: expect.any(String),
      placeholder: expect.any(String),
      isMultiline: true,
      maxLength: 500,
    },
  ]);
  expect(rendered.actions).toEqual([
    { type: 'Action.Execute', verb: 'approve', title: 'Approve', data: { requestId: 'JIT-7K3Q2' }, style: 'positive' },
    { type: 'Action.Execute', verb: 'reject', title: 'Reject', data: { requestId: 'JIT-7K3Q2' }, style: 'destructive' },
  ]);
});

test('whatever a person typed stays those characters: no mention, link, markup, date function or script', () => {
  const request = makeRequest({ reason: HOSTILE });
  request.requester = { ...request.requester, displayName: '<at>Boss</at> **Boss**' };
  request.target = {
    ...request.target,
    name: '[web](https://x.example)',
    tags: { Name: '[web](https://x.example)', env: '_prod_' },
  };
  request.decisions = [
    {
      by: { platform: 'teams', userId: 'b0b', displayName: '<at>Bob</at>' },
      roles: [],
      level: 0,
      verdict: 'approve',
      comment: HOSTILE,
      at: FIXTURE_NOW,
    },
  ];
  const rendered = renderAdaptiveCard(buildCard(request, context));
  const json = JSON.stringify(rendered);

  // No mention tag survives anywhere, and no date function.
  expect(json).not.toMatch(/<at>/i);
  expect(json).not.toContain('{{');
  // Markdown places hold only escaped text: no unescaped link, emphasis or heading syntax.
  for (const text of markdownPlaces(rendered)) {
    expect(text).not.toMatch(/(?<!\\)\[/);
    expect(text).not.toMatch(/(?<!\\)\*/);
    expect(text).not.toMatch(/(?<!\\)_/);
    expect(text).not.toContain('://');
  }
  // The reason and the comment are TextRuns (never read as markdown), shown as typed but for the defused tags.
  const defused = HOSTILE.replace('<at>', '<\u2060at>').replace('</at>', '</\u2060at>').replace('{{', '{\u2060{');
  expect(runs(rendered)).toEqual(expect.arrayContaining([defused, `\n“${defused}”`]));
});

test('256 CJK characters are shown whole', () => {
  const rendered = renderAdaptiveCard(card({ reason: CJK_256 }));
  expect(runs(rendered)).toContain(CJK_256);
});

test('after a decision the card has no buttons and no comment box, and shows who decided', () => {
  const rendered = renderAdaptiveCard(
    card({
      status: 'rejected',
      decisions: [
        {
          by: { platform: 'teams', userId: 'b0b', displayName: 'Bob' },
          roles: ['ops-approvers'],
          level: 0,
          verdict: 'reject',
          comment: 'not during the freeze',
          at: FIXTURE_NOW,
        },
      ],
    }),
  );
  expect(rendered.actions).toBeUndefined();
  expect(ofType(rendered, 'Input.Text')).toEqual([]);
  expect(ofType(rendered, 'TextBlock')[1]).toMatchObject({ text: '❌ Rejected by Bob', color: 'Attention' });
  expect(runs(rendered).join('')).toContain('“not during the freeze”');
});

test('an active card offers only Revoke', () => {
  const rendered = renderAdaptiveCard(
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
  expect(rendered.actions).toEqual([
    { type: 'Action.Execute', verb: 'revoke', title: 'Revoke', data: { requestId: 'JIT-7K3Q2' }, style: 'destructive' },
  ]);
});

test('the caps hold however large the card, and the buttons stay', () => {
  const long = (n: number) => 'x'.repeat(n);
  const base = card();
  const huge: ApprovalCard = {
    ...base,
    title: long(1000),
    statusText: long(5000),
    fields: Array.from({ length: 100 }, (_, i) => ({ label: `label ${i}`, value: long(5000) })),
    reason: long(10_000),
    decisions: Array.from({ length: 100 }, (_, i) => ({
      by: { platform: 'teams' as const, userId: `u${i}`, displayName: `P${i}` },
      verdict: 'approve' as const,
      text: long(3000),
      comment: long(3000),
      at: i,
    })),
    notices: Array.from({ length: 100 }, () => long(5000)),
    commentInput: { label: long(5000), placeholder: long(500), maxLength: 100_000 },
  };
  const rendered = renderAdaptiveCard(huge);
  expect(ofType(rendered, 'FactSet')[0]!.facts).toHaveLength(CARD_CAPS.fields);
  expect(ofType(rendered, 'Input.Text')[0]!.maxLength).toBe(CARD_CAPS.inputMaxLength);
  expect(rendered.actions).toHaveLength(2);
  // Well under the ~28 KB Teams accepts for a card.
  expect(Buffer.byteLength(JSON.stringify(rendered))).toBeLessThan(100_000);
  expect(ofType(rendered, 'TextBlock')[0]!.text).toHaveLength(CARD_CAPS.title);
});

test('invoke responses: the redrawn card for the clicker with the answer on top, or a message that leaves the card alone', () => {
  expect(cardResponse(card())).toEqual({
    statusCode: 200,
    type: 'application/vnd.microsoft.card.adaptive',
    value: renderAdaptiveCard(card()),
  });
  const withAnswer = cardResponse(card(), 'Recorded your approval of JIT-7K3Q2; *done*');
  expect((withAnswer.value as AdaptiveCard).body[0]).toMatchObject({
    type: 'TextBlock',
    id: 'jitbot-answer',
    text: 'Recorded your approval of JIT-7K3Q2; \\*done\\*',
  });
  expect((withAnswer.value as AdaptiveCard).body.slice(1)).toEqual(renderAdaptiveCard(card()).body);
  expect(messageResponse('JIT-7K3Q2 is no longer pending')).toEqual({
    statusCode: 200,
    type: 'application/vnd.microsoft.activity.message',
    value: 'JIT-7K3Q2 is no longer pending',
  });
});

test('message text: markdown, HTML, mentions and links shown as typed', () => {
  expect(messageText('<b>hi</b> **x** & <at>Bob</at> see https://evil.example\n- item\nnext', 200)).toBe(
    '&lt;b&gt;hi&lt;/b&gt; \\*\\*x\\*\\* &amp; &lt;\u2060at&gt;Bob&lt;/\u2060at&gt; see https:\u2060//evil.example\n\n\\- item\n\nnext',
  );
  expect(markdownText('web-1 (i-0abc) [x](y) *b* _i_', 100)).toBe('web-1 (i-0abc) \\[x\\](y) \\*b\\* \\_i\\_');
  expect(markdownText('', 10)).toBe('—');
  expect(markdownText('漢'.repeat(20), 5)).toBe('漢漢漢漢…');
});
