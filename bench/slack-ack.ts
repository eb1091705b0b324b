import http from 'node:http';
import { blockActionsBody, sign, SIGNING_SECRET } from '../test/adapters/slack/slack-requests';
import { FAKE_BOT_TOKEN } from '../test/support/fake-slack';
import { startChild, type BenchChild } from './child-ipc';
import { percentile } from './measure';
import type { PreparedCard } from './slack-jitbot-child';

// Slack's ack latency: 200 signed button clicks, 50 in flight, over real HTTP on loopback, to jitbot and to a
// bare Bolt app, from the same client in this process. Each of the three servers (jitbot, Bolt, the fake Slack
// jitbot answers through) runs in its own process. Rounds are paired: jitbot and Bolt get the same payloads in
// the same round, in alternating order, and jitbot's post-ack work has finished before the other side starts.

export const CLICKS = 200;
export const IN_FLIGHT = 50;
export const PAIRED_ROUNDS = 9;

export interface AckRound {
  /** Every ack's latency, ascending, in nanoseconds. */
  sortedNs: Float64Array;
  wallNs: number;
}

export interface SlackAckResult {
  jitbot: AckRound[];
  bolt: AckRound[];
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`benchmark check failed: ${message}`);
}

export async function benchSlackAck(): Promise<SlackAckResult> {
  const env = { BENCH_SLACK_SIGNING_SECRET: SIGNING_SECRET, BENCH_SLACK_BOT_TOKEN: FAKE_BOT_TOKEN };
  const fake = await startChild('slack-fake-child');
  const { url: fakeUrl, apiUrl } = fake.ready as { url: string; apiUrl: string };
  const children: BenchChild[] = [fake];
  try {
    // BENCH_CPU_PROF=<dir>: a CPU profile of the jitbot process (see bench/README.md).
    const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const jitbot = await startChild('slack-jitbot-child', {
      execArgv: profile,
      env: { ...env, BENCH_SLACK_API_URL: apiUrl },
    });
    children.push(jitbot);
    const bolt = await startChild('slack-bolt-child', { env: { ...env, BENCH_SLACK_API_URL: apiUrl } });
    children.push(bolt);
    const jitbotUrl = (jitbot.ready as { url: string }).url;
    const boltUrl = (bolt.ready as { url: string }).url;
    const client = new AckClient();

    const result: SlackAckResult = { jitbot: [], bolt: [] };
    // Round 0 warms up both servers (JIT, connections) and is not counted.
    for (let round = 0; round <= PAIRED_ROUNDS; round++) {
      const cards = await jitbot.call<PreparedCard[]>('prepare', CLICKS);
      const bodies = cards.map((card, i) =>
        blockActionsBody({
          userId: 'U0ALICE',
          userName: 'alice',
          channelId: card.channelId,
          messageTs: card.ts,
          action: 'approve',
          requestId: card.requestId,
          responseUrl: `${fakeUrl}/response/r${round}-${i}`,
        }),
      );
      const before = await fake.call<{ total: number; approvals: number }>('responses');
      const runJitbot = async () => {
        const measured = await client.round(jitbotUrl, bodies);
        await jitbot.call('idle');
        return measured;
      };
      const runBolt = () => client.round(boltUrl, bodies);
      // Alternate who goes first, so that a drift during the run (another process, the CPU's clock) hits both.
      let jitbotRound: AckRound;
      let boltRound: AckRound;
      if (round % 2 === 0) {
        jitbotRound = await runJitbot();
        boltRound = await runBolt();
      } else {
        boltRound = await runBolt();
        jitbotRound = await runJitbot();
      }

      const { active, others } = await jitbot.call<{ active: number; others: string[] }>(
        'active',
        cards.map((card) => card.requestId),
      );
      check(
        active === CLICKS,
        `round ${round}: ${active} of ${CLICKS} clicked requests are active (${others.join('; ')})`,
      );
      const after = await fake.call<{ total: number; approvals: number; others: string[] }>('responses');
      const told = after.approvals - before.approvals;
      check(
        told === CLICKS,
        `round ${round}: ${told} of ${CLICKS} clickers were told their approval was recorded (others: ${after.others.join(' | ')})`,
      );
      if (round === 0) continue;
      result.jitbot.push(jitbotRound);
      result.bolt.push(boltRound);
    }
    const acked = await bolt.call<number>('acked');
    check(acked === CLICKS * (PAIRED_ROUNDS + 1), `Bolt acknowledged ${acked} clicks`);
    client.close();
    return result;
  } finally {
    for (const child of children.reverse()) await child.stop();
  }
}

/** The load generator: keep-alive HTTP/1.1, up to IN_FLIGHT requests at once, each timed until its response ends. */
class AckClient {
  private agent = new http.Agent();

  /** A fresh agent per round: connections idle between rounds would be closed by the server's keep-alive timeout. */
  async round(baseUrl: string, bodies: string[]): Promise<AckRound> {
    this.agent.destroy();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
    const timestamp = Math.floor(Date.now() / 1000);
    const signed = bodies.map((body) => ({ body, signature: sign(body, timestamp) }));
    const durations = new Float64Array(signed.length);
    let next = 0;
    const started = process.hrtime.bigint();
    const worker = async () => {
      while (next < signed.length) {
        const i = next++;
        const before = process.hrtime.bigint();
        const status = await this.post(`${baseUrl}/slack/events`, signed[i]!.body, timestamp, signed[i]!.signature);
        durations[i] = Number(process.hrtime.bigint() - before);
        check(status === 200, `click ${i} to ${baseUrl} was answered HTTP ${status}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const wallNs = Number(process.hrtime.bigint() - started);
    return { sortedNs: durations.sort(), wallNs };
  }

  close(): void {
    this.agent.destroy();
  }

  private post(url: string, body: string, timestamp: number, signature: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            'X-Slack-Request-Timestamp': String(timestamp),
            'X-Slack-Signature': signature,
          },
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }
}

/** The median of per-round values. */
export function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function roundPercentile(round: AckRound, p: number): number {
  return percentile(round.sortedNs, p);
}
