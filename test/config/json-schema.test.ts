import { ADAPTERS } from '../../adapters';
import { jitbotJsonSchema } from '../../src/config/load';

type Schema = Record<string, any>;

describe('jitbotJsonSchema', () => {
  const schema = jitbotJsonSchema(ADAPTERS) as Schema;

  test('is a draft 2020-12 object schema with every top-level key and no others', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'adapters',
        'admins',
        'audit',
        'aws',
        'dynamodb',
        'embedded',
        'identities',
        'inventory',
        'locale',
        'policies',
        'roles',
        'server',
        'sweeper',
        'timeZone',
        'timeouts',
      ].sort(),
    );
    expect(schema.required ?? []).toEqual([]);
  });

  test('describes defaults, policy kinds and the env-reference form of secrets', () => {
    expect(schema.properties.locale).toMatchObject({ enum: ['en', 'zh-CN', 'ja'], default: 'en' });
    expect(schema.properties.server.properties.port.default).toBe(3000);
    const kinds = schema.properties.policies.items.oneOf.map((option: Schema) => option.properties.kind.const);
    expect(kinds).toEqual(['deny', 'auto', 'manual']);
    const manual = schema.properties.policies.items.oneOf[2];
    expect(manual.properties.levels).toMatchObject({ minItems: 1, maxItems: 5 });
    expect(manual.properties.levels.items.properties.required).toMatchObject({ minimum: 1, maximum: 5 });
    const botToken = schema.properties.adapters.properties.slack.properties.botToken;
    expect(new RegExp(botToken.pattern).test('${SLACK_BOT_TOKEN}')).toBe(true);
    expect(new RegExp(botToken.pattern).test('xoxb-inline')).toBe(false);
  });

  test('is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(schema))).toEqual(schema);
  });
});
