import { ClickResponses } from '../../../adapters/feishu/click-responses';

test('a click response may carry a card only if nothing newer was drawn on that message', () => {
  const responses = new ClickResponses(0);
  responses.drew('om_1', 4);
  expect(responses.mayAnswerWith('om_1', 3)).toBe(false);
  expect(responses.mayAnswerWith('om_1', 4)).toBe(true);
  expect(responses.mayAnswerWith('om_2', 1)).toBe(true);
  responses.drew('om_1', 2);
  expect(responses.mayAnswerWith('om_1', 3)).toBe(false);
});

test('a PATCH of a message answered with a card waits for the settle time; other messages do not wait', async () => {
  const responses = new ClickResponses(30);
  const order: string[] = [];
  responses.mayAnswerWith('om_answered', 1);
  const waited = responses.settled('om_answered').then(() => order.push('answered'));
  const free = responses.settled('om_other').then(() => order.push('other'));
  await Promise.all([waited, free]);
  expect(order).toEqual(['other', 'answered']);
});
