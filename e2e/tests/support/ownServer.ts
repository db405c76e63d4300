import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { test as base } from '@playwright/test';
import { METRICS_TOKEN } from './operator';

const root = path.resolve(import.meta.dirname, '../../..');

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** A uvicorn of the test's own, which the test may stop and start again on the same port. */
export class OwnServer {
  private process: ChildProcess | null = null;
  output = '';

  constructor(
    readonly port: number,
    private readonly env: Readonly<Record<string, string>> = {},
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(path.join(root, '.venv/bin/python'), ['-m', 'app'], {
      cwd: root,
      // A short drain on SIGTERM keeps restarts quick (the default is 2 s of not-ready).
      env: {
        ...process.env,
        APP_SHUTDOWN_DRAIN_SECONDS: '0.5',
        APP_METRICS_TOKEN: METRICS_TOKEN,
        ...this.env,
        APP_PORT: String(this.port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`uvicorn exited:\n${this.output}`);
      try {
        if ((await fetch(`${this.url}/api/health`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`uvicorn did not answer within 20 s:\n${this.output}`);
  }

  /** SIGSTOP: the process holds its sockets and answers nothing, like a hung server. */
  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGKILL: gone at once, without closing anything itself. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child === null || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  /** SIGTERM, as a deploy or a restart sends it; resolves once the process has exited. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    await terminate(child);
  }
}

/** Sends SIGTERM to a child process, if it still runs, and waits until it has exited. */
export async function terminate(child: ChildProcess | null): Promise<void> {
  if (child === null || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Playwright's `test` with `ownServer`: a uvicorn of the test's own, started before it and stopped after. */
export const test = base.extend<{ ownServer: OwnServer }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
  ownServer: async ({}, use) => {
    const server = new OwnServer(await freePort());
    await server.start();
    await use(server);
    await server.stop();
  },
});
