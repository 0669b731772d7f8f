/**
 * Headless Chromium driven through the DevTools protocol over --remote-debugging-pipe (JSON messages
 * ending in NUL on file descriptors 3 and 4), which needs no WebSocket client and no open port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Debian's package `chromium`, or the browser the CHROMIUM variable names. */
export function chromiumPath(): string | undefined {
  const path = process.env.CHROMIUM ?? '/usr/bin/chromium';
  return existsSync(path) ? path : undefined;
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--remote-debugging-pipe',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-extensions',
  '--disable-sync',
  '--hide-scrollbars',
  '--mute-audio',
  // Screenshot pixels then carry the page's colours exactly.
  '--force-color-profile=srgb',
];

/** What a page reported while it loaded: anything here is a fault of the page. */
export interface PageProblems {
  consoleErrors: string[];
  exceptions: string[];
  logErrors: string[];
  /** URLs fetched besides the page itself. */
  requests: string[];
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  sessionId?: string;
  result?: Record<string, unknown>;
  error?: { message: string };
}

const TIMEOUT_MS = 30_000;

export class HeadlessChromium {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Set<(m: Message) => void>();
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly profile: string,
  ) {
    const out = child.stdio[4] as Readable;
    let buffer = Buffer.alloc(0);
    out.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = buffer.indexOf(0); end >= 0; end = buffer.indexOf(0)) {
        this.dispatch(JSON.parse(buffer.subarray(0, end).toString('utf8')) as Message);
        buffer = buffer.subarray(end + 1);
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`chromium exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static launch(executable: string): HeadlessChromium {
    const profile = mkdtempSync(join(tmpdir(), 'quantkit-chromium-'));
    const child = spawn(executable, [...FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    return new HeadlessChromium(child, profile);
  }

  private dispatch(m: Message): void {
    if (m.id !== undefined) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error) p?.reject(new Error(m.error.message));
      else p?.resolve(m);
      return;
    }
    for (const l of this.listeners) l(m);
  }

  async send(method: string, params: object = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(
        () => reject(new Error(`${method}: no answer from chromium in ${TIMEOUT_MS} ms`)),
        TIMEOUT_MS,
      ).unref();
    });
    (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    return (await reply).result ?? {};
  }

  /** Opens `url` in a new tab of the given width, waits for its load event, and records its problems. */
  async open(url: string, width: number): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    const problems: PageProblems = { consoleErrors: [], exceptions: [], logErrors: [], requests: [] };
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    this.listeners.add((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params as Record<string, never>;
      if (m.method === 'Page.loadEventFired') loaded();
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
        problems.consoleErrors.push(JSON.stringify(p.args));
      if (m.method === 'Runtime.exceptionThrown')
        problems.exceptions.push(JSON.stringify(p.exceptionDetails));
      if (m.method === 'Log.entryAdded' && (p.entry as { level: string }).level === 'error')
        problems.logErrors.push(JSON.stringify(p.entry));
      if (m.method === 'Network.requestWillBeSent') {
        const requested = (p.request as { url: string }).url;
        if (requested !== url) problems.requests.push(requested);
      }
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network'])
      await this.send(`${domain}.enable`, {}, sessionId);
    await this.send(
      'Emulation.setDeviceMetricsOverride',
      { width, height: 800, deviceScaleFactor: 1, mobile: false },
      sessionId,
    );
    const nav = await this.send('Page.navigate', { url }, sessionId);
    if (nav.errorText) throw new Error(`${url}: ${String(nav.errorText)}`);
    await Promise.race([
      load,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`${url} did not load`)), TIMEOUT_MS).unref(),
      ),
    ]);
    return new Page(this, sessionId, problems);
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    if (this.child.exitCode === null) {
      await this.send('Browser.close').catch(() => undefined);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(
    private readonly browser: HeadlessChromium,
    private readonly sessionId: string,
    readonly problems: PageProblems,
  ) {}

  /** Evaluates a JavaScript expression in the page; returns its value as JSON carries it. */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.browser.send(
      'Runtime.evaluate',
      { expression, returnByValue: true },
      this.sessionId,
    );
    if (r.exceptionDetails) throw new Error(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    return (r.result as { value: T }).value;
  }

  /** A PNG of the whole page, not just the window. */
  async screenshot(): Promise<Buffer> {
    const metrics = await this.browser.send('Page.getLayoutMetrics', {}, this.sessionId);
    const { width, height } = metrics.cssContentSize as { width: number; height: number };
    const shot = await this.browser.send(
      'Page.captureScreenshot',
      { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width, height, scale: 1 } },
      this.sessionId,
    );
    return Buffer.from(shot.data as string, 'base64');
  }
}
