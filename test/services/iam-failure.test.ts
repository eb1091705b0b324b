import { describeIamFailure } from '../../src/services/iam-failure';

// How granter errors are named to people. The IamGranter wraps the SDK error (its `cause`), so names are read
// through the chain; anything unknown is shown by its (short, secret-free) message.

function sdkError(name: string, status?: number, code?: string): Error {
  return Object.assign(new Error(`${name} from AWS`), {
    name,
    ...(status && { $metadata: { httpStatusCode: status } }),
    ...(code && { code }),
  });
}

const wrapped = (cause: Error) =>
  new Error(`iam:PutUserPolicy on IAM user dana failed (${cause.name}): ${cause.message}`, { cause });

test.each([
  ['IAM Throttling (wrapped)', wrapped(sdkError('Throttling', 400)), { code: 'throttled' }],
  ['ThrottlingException', sdkError('ThrottlingException', 400), { code: 'throttled' }],
  ['a plain "Rate exceeded" message', new Error('Rate exceeded'), { code: 'throttled' }],
  ['ServiceFailure', wrapped(sdkError('ServiceFailure', 500)), { code: 'unavailable' }],
  ['any 5xx', wrapped(sdkError('SomethingOdd', 503)), { code: 'unavailable' }],
  ['connection refused', wrapped(sdkError('Error', undefined, 'ECONNREFUSED')), { code: 'unreachable' }],
  ['SDK timeout', wrapped(sdkError('TimeoutError')), { code: 'unreachable' }],
  [
    'anything else',
    new Error('policy version limit reached'),
    { code: 'error', message: 'policy version limit reached' },
  ],
])('%s', (_title, error, expected) => {
  expect(describeIamFailure(error)).toEqual(expected);
});

test('long messages are cut for cards', () => {
  const problem = describeIamFailure(new Error('x'.repeat(500)));
  expect(problem).toEqual({ code: 'error', message: `${'x'.repeat(199)}…` });
});
