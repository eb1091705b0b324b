import { commentMaxLength, shownComment, shownParts, uniqueActions } from '../../../adapters/shared/card-parts';
import type { ApprovalCard, CardAction, CardDecision } from '../../../src/core/card';
import { sampleCard } from '../console/harness';

const decision = (text: string, comment?: string): CardDecision => ({
  by: { platform: 'console', userId: 'alice', displayName: 'Alice' },
  verdict: 'approve',
  text,
  ...(comment !== undefined && { comment }),
  at: 0,
});

describe('shownParts', () => {
  test('the first notices and fields, the latest decisions, up to the counts', () => {
    const card = sampleCard({
      notices: ['n1', 'n2', 'n3'],
      fields: [1, 2, 3].map((i) => ({ label: `l${i}`, value: `v${i}` })),
      decisions: ['d1', 'd2', 'd3'].map((text) => decision(text)),
    });
    const shown = shownParts(card, { notices: 2, fields: 1, decisions: 2 });
    expect(shown.notices).toEqual(['n1', 'n2']);
    expect(shown.fields).toEqual([{ label: 'l1', value: 'v1' }]);
    expect(shown.decisions.map((d) => d.text)).toEqual(['d2', 'd3']);
  });

  test('each action once, and the comment box only next to a button', () => {
    const approve: CardAction = { id: 'approve', label: 'Approve', style: 'primary' };
    const reject: CardAction = { id: 'reject', label: 'Reject', style: 'danger' };
    const unknown = { id: 'launch', label: 'Launch', style: 'default' } as unknown as CardAction;
    const counts = { notices: 5, fields: 5, decisions: 5 };
    const withButtons = shownParts(
      sampleCard({ actions: [approve, unknown, { ...approve, label: 'Again' }, reject] }),
      counts,
    );
    expect(withButtons.actions).toEqual([approve, reject]);
    expect(withButtons.commentInput).toEqual({ label: 'Comment', placeholder: 'Optional', maxLength: 20 });

    const card: ApprovalCard = sampleCard({ actions: [unknown] });
    expect(card.commentInput).toBeDefined();
    const withoutButtons = shownParts(card, counts);
    expect(withoutButtons.actions).toEqual([]);
    expect(withoutButtons).not.toHaveProperty('commentInput');
  });
});

test('shownComment leaves out a missing or blank comment', () => {
  expect(shownComment(decision('d', 'looks fine'))).toBe('looks fine');
  expect(shownComment(decision('d', ' \n '))).toBeUndefined();
  expect(shownComment(decision('d'))).toBeUndefined();
});

test('uniqueActions keeps the first of each known action, in order', () => {
  const revoke: CardAction = { id: 'revoke', label: 'Revoke', style: 'danger' };
  const approve: CardAction = { id: 'approve', label: 'Approve', style: 'primary' };
  expect(uniqueActions([revoke, approve, { ...revoke, label: 'Twice' }])).toEqual([revoke, approve]);
});

test('commentMaxLength is a whole number from 1 to the cap', () => {
  expect(commentMaxLength(500, 3000)).toBe(500);
  expect(commentMaxLength(99_999, 3000)).toBe(3000);
  expect(commentMaxLength(0.5, 3000)).toBe(1);
  expect(commentMaxLength(12.9, 3000)).toBe(12);
  expect(commentMaxLength(Number.NaN, 3000)).toBe(3000);
  expect(commentMaxLength(Infinity, 3000)).toBe(3000);
});
