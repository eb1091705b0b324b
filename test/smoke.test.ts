import { nextDueAt } from '../src/core/deadlines';
test('placeholder replaced by real suites', () => {
  expect(typeof nextDueAt).toBe('function');
});
