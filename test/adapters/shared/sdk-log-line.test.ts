import { sdkLogLine } from '../../../adapters/shared/sdk-log-line';

describe('sdkLogLine', () => {
  test('strings and Error messages pass, joined by spaces', () => {
    expect(sdkLogLine(['[WARN]', 'rate limited;', new Error('retry in 3 s')])).toBe(
      '[WARN] rate limited; retry in 3 s',
    );
  });

  test('objects (request configs with secrets and tokens) never reach the line, at any depth', () => {
    const config = { url: '/auth/v3/tenant_access_token/internal', data: { app_secret: 'SUPERSECRET' } };
    const headers = new Map([['authorization', 'Bearer SECRET-TOKEN']]);
    const line = sdkLogLine(['request failed', config, [['nested', config]], headers, 42, undefined]);
    expect(line).toBe(
      'request failed [details omitted] nested [details omitted] [details omitted] [details omitted] [details omitted]',
    );
    expect(line).not.toContain('SECRET');
  });
});
