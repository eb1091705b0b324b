import { GrantRefused } from '../ports/granter';

// How IAM errors reach people. A missing object is NotFound (the caller decides whether that is a refusal or nothing
// to do); missing permissions and IAM's own refusals are GrantRefused (permanent: shown on the card, not retried);
// anything else is a plain Error, which the outbox retries. Throttling and 5xx were already retried by the SDK
// (AwsClients).

/** The IAM object is not there. */
export class NotFound extends Error {}

const NOT_FOUND_NAMES = new Set(['NoSuchEntity', 'NoSuchEntityException']);
const ACCESS_DENIED_NAMES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const REFUSED_NAMES = new Set([
  'LimitExceeded',
  'LimitExceededException',
  'MalformedPolicyDocument',
  'MalformedPolicyDocumentException',
  'UnmodifiableEntity',
  'UnmodifiableEntityException',
]);

/** The IAM object a call is about, as messages name it. */
export interface IamSubject {
  account: string;
  objectArn: string;
  /** "IAM user dana", "Identity Center policy jitbot-ops in 111122223333". */
  description: string;
}

export function awsErrorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** An SDK error saying the IAM entity does not exist. */
export function isNoSuchEntity(error: unknown): boolean {
  return NOT_FOUND_NAMES.has(awsErrorName(error));
}

/** One IAM call with jitbot's error mapping. */
export async function callIam<T>(subject: IamSubject, action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const name = awsErrorName(error);
    if (NOT_FOUND_NAMES.has(name)) throw new NotFound(`${subject.objectArn} not found`);
    if (ACCESS_DENIED_NAMES.has(name)) {
      throw new GrantRefused(
        `jitbot is not allowed to call ${action} on ${subject.description} in account ${subject.account} ` +
          `(AWS: ${awsMessage(error)}); add it to jitbot's IAM policy (see docs/aws-iam.md)`,
      );
    }
    const message = awsMessage(error);
    if (REFUSED_NAMES.has(name)) throw new GrantRefused(`IAM refused ${action} on ${subject.description}: ${message}`);
    const attempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts;
    throw new Error(
      `${action} on ${subject.description} failed (${name}${attempts ? ` after ${attempts} attempts` : ''}): ${message}`,
      {
        cause: error,
      },
    );
  }
}

/** For deletes: an object that is already gone is fine. */
export function ignoreNotFound(error: unknown): void {
  if (!(error instanceof NotFound)) throw error;
}

/** For grants: a principal that does not exist is a refusal. */
export function refuseMissing(error: unknown, subject: IamSubject): never {
  if (error instanceof NotFound) throw new GrantRefused(`${subject.description} does not exist in ${subject.account}`);
  throw error;
}

/** AWS error messages name principals and actions, never credentials; they are cut short to keep cards readable. */
function awsMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}
