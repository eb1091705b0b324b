import { GENESIS_HASH, canonicalJson, hashAuditEvent, verifyAuditChain } from '../../src/core/audit-chain';
import type { AuditEvent, AuditInput } from '../../src/ports/store';

const T = Date.UTC(2025, 0, 15, 9, 0, 0);

function chain(inputs: AuditInput[], firstSeq = 1, firstPrevHash = GENESIS_HASH): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prevHash = firstPrevHash;
  inputs.forEach((input, i) => {
    const seq = firstSeq + i;
    const hash = hashAuditEvent(prevHash, input, seq);
    events.push({ ...input, seq, prevHash, hash });
    prevHash = hash;
  });
  return events;
}

const inputs = (n: number): AuditInput[] =>
  Array.from({ length: n }, (_, i) => ({
    at: T + i,
    actor: 'slack:U1',
    action: 'request.approve',
    requestId: `JIT-0000${i}`,
    detail: { level: i, note: '承認 ✅' },
  }));

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves out undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: undefined } })).toBe(
      '{"a":{"d":[3,{"y":null,"z":true}]},"b":1}',
    );
    expect(canonicalJson([1, undefined, 'x'])).toBe('[1,"x"]');
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: { p: 'é', q: 2 } })).toBe(canonicalJson({ y: { q: 2, p: 'é' }, x: 1 }));
  });

  it('refuses values the store cannot keep', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/finite/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson(undefined)).toThrow();
  });
});

describe('hashAuditEvent', () => {
  const input: AuditInput = { at: T, actor: 'console:alice', action: 'request.create', requestId: 'JIT-7K3Q2' };

  it('is a hex sha256 that depends on prevHash, seq and content, not on key order', () => {
    const hash = hashAuditEvent(GENESIS_HASH, input, 1);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAuditEvent(GENESIS_HASH, { requestId: 'JIT-7K3Q2', action: 'request.create', actor: 'console:alice', at: T }, 1)).toBe(hash);
    expect(hashAuditEvent(GENESIS_HASH, input, 2)).not.toBe(hash);
    expect(hashAuditEvent('f'.repeat(64), input, 1)).not.toBe(hash);
    expect(hashAuditEvent(GENESIS_HASH, { ...input, comment: 'x' }, 1)).not.toBe(hash);
  });

  it('ignores seq, prevHash and hash fields carried by a stored event', () => {
    const [event] = chain([input]);
    expect(hashAuditEvent(event!.prevHash, event!, event!.seq)).toBe(event!.hash);
  });
});

describe('verifyAuditChain', () => {
  it('accepts an intact chain and an empty one', () => {
    expect(verifyAuditChain(chain(inputs(5)))).toEqual({ ok: true, count: 5 });
    expect(verifyAuditChain([])).toEqual({ ok: true, count: 0 });
  });

  it('accepts a chain whose oldest events were removed by retention', () => {
    expect(verifyAuditChain(chain(inputs(5)).slice(2))).toEqual({ ok: true, count: 3 });
  });

  it('reports edited content at the edited event', () => {
    const events = chain(inputs(5));
    events[2] = { ...events[2]!, detail: { level: 99 } };
    expect(verifyAuditChain(events)).toEqual({ ok: false, brokenAt: 3, reason: expect.stringMatching(/content/) });
  });

  it('reports a removed event where the gap is', () => {
    const events = chain(inputs(5));
    events.splice(1, 1);
    expect(verifyAuditChain(events)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('reports an event re-hashed after editing at the next event', () => {
    const events = chain(inputs(5));
    const edited = { ...events[1]!, actor: 'console:mallory' };
    events[1] = { ...edited, hash: hashAuditEvent(edited.prevHash, edited, edited.seq) };
    expect(verifyAuditChain(events)).toEqual({ ok: false, brokenAt: 3, reason: expect.stringMatching(/prevHash/) });
  });

  it('reports a first event that does not start from the genesis hash', () => {
    expect(verifyAuditChain(chain(inputs(2), 1, 'a'.repeat(64)))).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('reports events out of order', () => {
    const events = chain(inputs(3));
    expect(verifyAuditChain([events[0]!, events[2]!, events[1]!])).toMatchObject({ ok: false, brokenAt: 3 });
  });
});
