import { CARD_LIMITS, renderCard } from '../../../adapters/console/render';
import { renderPlainText } from '../../../adapters/shared/plain-text';
import { sampleCard } from './harness';

describe('renderCard', () => {
  test('keeps what the page draws, nearly as given', () => {
    const card = sampleCard({
      decisions: [
        {
          by: { platform: 'console', userId: 'alice', displayName: 'Alice' },
          verdict: 'approve',
          text: '✅ Alice approved (Level 1) at 14:03',
          comment: 'looks fine',
          at: 1_700_000_000_000,
        },
      ],
    });
    expect(renderCard(card)).toEqual({
      requestId: 'JIT-7K3Q2',
      version: 1,
      status: 'pending',
      title: card.title,
      statusText: card.statusText,
      requester: { userId: 'dana', displayName: 'Dana' },
      fields: card.fields,
      reasonLabel: 'Reason',
      reason: 'fix nginx',
      progress: 'Level 1 of 1 · 0 of 1 approvals',
      decisions: [
        {
          verdict: 'approve',
          by: 'Alice',
          text: '✅ Alice approved (Level 1) at 14:03',
          comment: 'looks fine',
          at: 1_700_000_000_000,
        },
      ],
      notices: ['Dry run: no AWS change will be made.'],
      actions: card.actions,
      commentInput: { label: 'Comment', placeholder: 'Optional', maxLength: 20 },
      footer: 'Requested 14:03',
    });
  });

  test('leaves out optional parts that are absent', () => {
    const rendered = renderCard(
      sampleCard({ progress: undefined, commentInput: undefined, footer: undefined, actions: [] }),
    );
    expect(rendered).not.toHaveProperty('progress');
    expect(rendered).not.toHaveProperty('commentInput');
    expect(rendered).not.toHaveProperty('footer');
    expect(rendered.actions).toEqual([]);
  });

  test('caps lengths and counts', () => {
    const rendered = renderCard(
      sampleCard({
        title: 't'.repeat(1000),
        reason: 'r'.repeat(10_000),
        fields: Array.from({ length: 40 }, (_, i) => ({ label: `f${i}`, value: 'v'.repeat(5000) })),
        notices: Array.from({ length: 30 }, () => 'n'),
        commentInput: { label: 'Comment', placeholder: '', maxLength: 1_000_000 },
      }),
    );
    expect(Array.from(rendered.title)).toHaveLength(CARD_LIMITS.title);
    expect(rendered.title.endsWith('…')).toBe(true);
    expect(Array.from(rendered.reason)).toHaveLength(CARD_LIMITS.reason);
    expect(rendered.fields).toHaveLength(CARD_LIMITS.fields);
    expect(rendered.fields[0]!.value).toHaveLength(CARD_LIMITS.fieldValue);
    expect(rendered.notices).toHaveLength(CARD_LIMITS.notices);
    expect(rendered.commentInput!.maxLength).toBe(CARD_LIMITS.commentMaxLength);
  });

  test('drops unknown and repeated actions', () => {
    const approve = { id: 'approve' as const, label: 'Approve', style: 'primary' as const };
    const rogue = { id: 'delete', label: 'Delete', style: 'danger' } as never;
    expect(renderCard(sampleCard({ actions: [approve, rogue, approve] })).actions).toEqual([approve]);
  });

  test('keeps markup-like text as characters (the page never parses it)', () => {
    expect(renderCard(sampleCard({ reason: '<script>x</script> <!channel> <@U123>' })).reason).toBe(
      '<script>x</script> <!channel> <@U123>',
    );
  });
});

describe('renderPlainText', () => {
  test('removes control and bidirectional-override characters, keeps newlines and tabs', () => {
    expect(renderPlainText('a\u0000b\u202Ecd\u2066e\r\nf\tg', 100)).toBe('abcde\nf\tg');
  });

  test('never splits an emoji when cutting', () => {
    expect(renderPlainText('😀😀😀😀', 3)).toBe('😀😀…');
    expect(renderPlainText('😀😀😀', 3)).toBe('😀😀😀');
  });
});
