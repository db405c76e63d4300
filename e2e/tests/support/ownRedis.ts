import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, terminate } from './ownServer';

/** A redis-server of the test's own, on a free loopback port (Debian's package redis-server). */
export class OwnRedis {
  private process: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    const folder = await mkdtemp(path.join(tmpdir(), 'e2e-redis-'));
    const child = spawn(
      'redis-server',
      ['--port', String(redis.port), '--bind', '127.0.0.1', '--save', '', '--dir', folder],
      { stdio: 'ignore' },
    );
    // Reported by the loop below: a throw inside this listener would end the whole run.
    let spawnError: Error | null = null;
    child.on('error', (error) => {
      spawnError = error;
    });
    redis.process = child;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (spawnError !== null) {
        throw new Error(
          `redis-server could not start (Debian's package redis-server): ${spawnError}`,
        );
      }
      if (await redis.answers()) return redis;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${redis.port}`);
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    await terminate(child);
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.once('error', () => resolve(false));
    });
  }
}
