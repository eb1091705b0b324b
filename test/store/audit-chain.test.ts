import { GENESIS_HASH, canonicalJson, hashAuditEvent, verifyAuditChain } from '../../src/core/audit-chain';
import type { AuditAnchors, AuditEvent, AuditInput } from '../../src/ports/store';

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
    expect(
      hashAuditEvent(
        GENESIS_HASH,
        { requestId: 'JIT-7K3Q2', action: 'request.create', actor: 'console:alice', at: T },
        1,
      ),
    ).toBe(hash);
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
  /** The anchors a store would hold for these events (head = the newest). */
  const headOf = (events: AuditEvent[]): AuditAnchors => {
    const last = events.at(-1);
    return last ? { head: { seq: last.seq, hash: last.hash } } : {};
  };

  it('accepts an intact chain and an empty one', () => {
    const events = chain(inputs(5));
    expect(verifyAuditChain(events, headOf(events))).toEqual({ ok: true, count: 5 });
    expect(verifyAuditChain([], {})).toEqual({ ok: true, count: 0 });
  });

  it('accepts events appended after the head was read', () => {
    const events = chain(inputs(5));
    expect(verifyAuditChain(events, headOf(events.slice(0, 3)))).toEqual({ ok: true, count: 5 });
  });

  it('accepts a chain that starts right after the recorded pruning point, and leftovers the point covers', () => {
    const events = chain(inputs(5));
    const pruned = { seq: 2, hash: events[1]!.hash, at: events[1]!.at };
    expect(verifyAuditChain(events.slice(2), { ...headOf(events), pruned })).toEqual({ ok: true, count: 3 });
    expect(verifyAuditChain(events.slice(1), { ...headOf(events), pruned })).toEqual({ ok: true, count: 4 });
    // Everything pruned: nothing left, and the head is the pruning point.
    const all = { seq: 5, hash: events[4]!.hash, at: events[4]!.at };
    expect(verifyAuditChain([], { ...headOf(events), pruned: all })).toEqual({ ok: true, count: 0 });
  });

  it('reports oldest events missing without a pruning point that explains them', () => {
    const events = chain(inputs(5));
    expect(verifyAuditChain(events.slice(2), headOf(events))).toEqual({
      ok: false,
      brokenAt: 1,
      reason: 'events 1–2 are missing: the chain must start at event 1',
    });
    const pruned = { seq: 1, hash: events[0]!.hash, at: events[0]!.at };
    expect(verifyAuditChain(events.slice(2), { ...headOf(events), pruned })).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: 'event 2 is missing: the chain must start right after the pruning point (event 1)',
    });
  });

  it('reports a chain that does not link to the pruning point', () => {
    const events = chain(inputs(5));
    const pruned = { seq: 2, hash: 'f'.repeat(64), at: events[1]!.at };
    expect(verifyAuditChain(events.slice(2), { ...headOf(events), pruned })).toMatchObject({ ok: false, brokenAt: 3 });
    expect(verifyAuditChain(events, { ...headOf(events), pruned })).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('reports deleted newest events named by the head record', () => {
    const events = chain(inputs(5));
    expect(verifyAuditChain(events.slice(0, 4), headOf(events))).toEqual({
      ok: false,
      brokenAt: 5,
      reason: 'event 5 is missing: the head record names event 5 as the newest',
    });
    expect(verifyAuditChain([], headOf(events))).toMatchObject({
      ok: false,
      brokenAt: 1,
      reason: expect.stringMatching(/events 1–5 are missing/),
    });
  });

  it('reports a newest event replaced by another with a valid hash', () => {
    const events = chain(inputs(5));
    const forged = chain([...inputs(4), { ...inputs(5)[4]!, actor: 'console:mallory' }]);
    expect(verifyAuditChain(forged, headOf(events))).toMatchObject({
      ok: false,
      brokenAt: 5,
      reason: expect.stringMatching(/head record/),
    });
  });

  it('reports events without a head record', () => {
    expect(verifyAuditChain(chain(inputs(2)), {})).toMatchObject({
      ok: false,
      brokenAt: 2,
      reason: expect.stringMatching(/head record is missing/),
    });
  });

  it('reports edited content at the edited event', () => {
    const events = chain(inputs(5));
    const anchors = headOf(events);
    events[2] = { ...events[2]!, detail: { level: 99 } };
    expect(verifyAuditChain(events, anchors)).toEqual({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/content/),
    });
  });

  it('reports a removed event where the gap is', () => {
    const events = chain(inputs(5));
    const anchors = headOf(events);
    events.splice(1, 1);
    expect(verifyAuditChain(events, anchors)).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('reports an event re-hashed after editing at the next event', () => {
    const events = chain(inputs(5));
    const anchors = headOf(events);
    const edited = { ...events[1]!, actor: 'console:mallory' };
    events[1] = { ...edited, hash: hashAuditEvent(edited.prevHash, edited, edited.seq) };
    expect(verifyAuditChain(events, anchors)).toEqual({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/prevHash/),
    });
  });

  it('reports a first event that does not start from the genesis hash', () => {
    const events = chain(inputs(2), 1, 'a'.repeat(64));
    expect(verifyAuditChain(events, headOf(events))).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('reports events out of order (a swapped pair)', () => {
    const events = chain(inputs(3));
    expect(verifyAuditChain([events[0]!, events[2]!, events[1]!], headOf(events))).toMatchObject({
      ok: false,
      brokenAt: 3,
    });
  });
});
