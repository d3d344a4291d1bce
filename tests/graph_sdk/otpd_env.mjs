// A real otpd for Microsoft's Graph JS SDK: a data directory made with `otpctl init`, API keys
// from `otpctl apikey create`, the admin API on a loopback TLS listener (the certificate made by
// run.sh, its CA trusted through NODE_EXTRA_CA_CERTS), the verify socket, and a webhook hook
// pointed at a receiver in this process. Secrets (keys, seeds, codes, passwords) are never
// printed: failures name the step, and the daemon's log (which holds none) is shown.

import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';

import { Client } from '@microsoft/microsoft-graph-client';

const run = promisify(execFile);
export const WAIT_MS = 30_000;

// Graph's administrator roles for a key that may do everything these tests do.
export const FULL_ROLES = [
  'privileged_authentication_administrator',
  'authentication_policy_administrator',
];

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through tests/graph_sdk/run.sh`);
  return value;
}

// otpd's children must not take a master key from the caller's environment.
function childEnv() {
  const e = { ...process.env };
  for (const k of Object.keys(e)) {
    if (k.startsWith('OTPD_MASTER_KEY') || k === 'OTPD_KEY_FILE') delete e[k];
  }
  return e;
}

export class Otpd {
  constructor(name) {
    this.dir = fs.mkdtempSync(path.join(env('GRAPH_SDK_WORK'), `${name}-`));
    this.data = path.join(this.dir, 'data');
    this.keyFile = path.join(this.dir, 'data.key');
    this.verifySocket = path.join(this.data, 'verify.sock');
    this.log = [];
    this.port = 0;
    this.proc = null;
    this.webhooks = null;
  }

  get baseUrl() {
    return `https://127.0.0.1:${this.port}`;
  }

  async otpctl(...args) {
    try {
      const { stdout } = await run(env('OTPCTL'), args, { env: childEnv(), timeout: WAIT_MS });
      return stdout;
    } catch (e) {
      // The command and its first word only: later arguments may name key files.
      const why = e.stderr ? String(e.stderr).slice(0, 400) : `${e.code ?? e.signal}`;
      throw new Error(`otpctl ${args.slice(0, 2).join(' ')} failed: ${why}`);
    }
  }

  // Starts the webhook receiver, then otpd with a hook posting to it.
  async start() {
    this.webhooks = await WebhookReceiver.start();
    const secretFile = path.join(this.dir, 'hook.secret');
    fs.writeFileSync(secretFile, `${this.webhooks.secret}\n`, { mode: 0o600 });
    const config = path.join(this.dir, 'otpd.toml');
    fs.writeFileSync(config, [
      '[hooks.graphsdk]',
      'type = "webhook"',
      `url = "http://127.0.0.1:${this.webhooks.port}/otpd"`,
      `secret_file = "${secretFile}"`,
      'event_secrets = false',
      'timeout_ms = 5000',
      'retry_initial_ms = 200',
      'retry_max_ms = 1000',
      '',
    ].join('\n'));
    await this.otpctl('init', '--data-dir', this.data, '--key-file', this.keyFile);
    await this.spawnDaemon(config);
  }

  async spawnDaemon(config) {
    this.proc = spawn(env('OTPD'), [
      '--data-dir', this.data, '--key-file', this.keyFile, '--socket', this.verifySocket,
      '--admin-listen', '127.0.0.1:0', '--admin-tls-cert', env('GRAPH_SDK_CERT'),
      '--admin-tls-key', env('GRAPH_SDK_KEY'), '--config', config,
    ], { env: childEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    fs.writeFileSync(path.join(this.dir, 'otpd.pid'), String(this.proc.pid));
    this.exited = new Promise((resolve) => this.proc.once('exit', resolve));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(this.failure('otpd did not start in time')), WAIT_MS);
      let pending = '';
      this.proc.stderr.setEncoding('utf8');
      this.proc.stderr.on('data', (chunk) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop();
        for (const line of lines) {
          this.log.push(line);
          const m = /admin_port=(\d+)/.exec(line);
          if (m && !this.port) {
            this.port = Number(m[1]);
            clearTimeout(timer);
            resolve();
          }
        }
      });
      this.proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(this.failure(`otpd exited with ${code} before it served`));
      });
    });
  }

  failure(what) {
    return new Error(`${what}; otpd's log:\n${this.log.slice(-30).join('\n')}`);
  }

  // A new API key with these roles, made by the owner through the running daemon.
  async apiKey(name, roles) {
    const out = path.join(this.dir, `${name}.key`);
    const args = ['apikey', 'create', name, '--out', out, '--data-dir', this.data,
      '--key-file', this.keyFile, '--online'];
    for (const r of roles) args.push('--role', r);
    await this.otpctl(...args);
    return fs.readFileSync(out, 'utf8').trim();
  }

  // Microsoft's Graph client pointed at this daemon: the key as the bearer, 127.0.0.1 as a host
  // the SDK may send it to (it sends the bearer only to Graph's hosts and to these).
  client(key) {
    return Client.init({
      baseUrl: this.baseUrl,
      customHosts: new Set(['127.0.0.1']),
      authProvider: (done) => done(null, key),
    });
  }

  // One VERIFY over the Unix verify socket; the reply line.
  verify(user, code) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.verifySocket);
      let reply = '';
      socket.setTimeout(WAIT_MS, () => socket.destroy(new Error('verify socket timed out')));
      socket.on('connect', () => socket.write(`VERIFY\tv1\tuser=${user}\totp=${code}\n`));
      socket.setEncoding('utf8');
      socket.on('data', (chunk) => {
        reply += chunk;
        if (reply.includes('\n')) {
          socket.end();
          resolve(reply.trim());
        }
      });
      socket.on('error', reject);
    });
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), WAIT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    if (this.webhooks) await this.webhooks.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A loopback HTTP server that keeps every POST it gets (headers and the body exactly as sent).
export class WebhookReceiver {
  static async start() {
    const r = new WebhookReceiver();
    r.secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    r.received = [];
    r.waiters = [];
    r.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        r.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
        for (const w of r.waiters.splice(0)) w();
      });
    });
    await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    r.port = r.server.address().port;
    return r;
  }

  // The first delivery whose parsed body satisfies `match`, waiting for it if need be.
  async waitFor(match, what) {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const hit = this.received.find((d) => {
        try {
          return match(JSON.parse(d.body));
        } catch {
          return false;
        }
      });
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no webhook delivery of ${what} within ${WAIT_MS} ms`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// One daemon for a test file, started before its tests and stopped after them (also when they
// fail). Once started, `suite.otpd` is the daemon and `suite.admin` an SDK client holding a key
// with every role; `suite.newUser(name)` makes a user with PUT under a fresh name in `domain`.
// `started(suite)`, when given, is awaited once both are there (the file's own set-up).
export function otpdForFile(name, domain, started = async () => {}) {
  const suite = { otpd: null, admin: null };
  before(async () => {
    suite.otpd = new Otpd(name);
    await suite.otpd.start();
    suite.admin = suite.otpd.client(await suite.otpd.apiKey('sdk-admin', FULL_ROLES));
    await started(suite);
  });
  after(async () => {
    if (suite.otpd) await suite.otpd.stop();
  });
  suite.newUser = async (who) => {
    const upn = `${who}-${crypto.randomBytes(3).toString('hex')}@${domain}`;
    await suite.admin.api(`/users/${upn}`).put({ displayName: who });
    return upn;
  };
  return suite;
}
