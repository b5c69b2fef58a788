// The dashboard in a real browser against a real node.
//
//   node dashboard.test.mjs /path/to/custodiand      (or CUSTODIAND=/path/to/custodiand)
//
// Starts custodiand on a free port with a small config in a temp dir (three sim
// pools with dependencies, an admin token through token_env), waits for /readyz,
// drives Debian's Chromium (CHROMIUM, default /usr/bin/chromium) headless through
// playwright-core and checks what an operator sees and does. Every wait is for a
// condition with a bounded timeout. On failure it saves a screenshot and the node's
// log in the temp dir and prints their paths. It always stops the browser and the
// node, and exits 0 on success, 1 on failure.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const given = process.argv[2] || process.env.CUSTODIAND;
const CUSTODIAND = given && resolve(given); // it runs in the temp dir
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TOKEN = "browser-test-" + Math.random().toString(36).slice(2);
const TIMEOUT_MS = 15_000; // any one condition
const DEADLINE_MS = 150_000; // the whole run (CTest gives 180 s)

const POOLS = ["db", "cache", "web"];

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

const dir = mkdtempSync(join(tmpdir(), "custodian-browser-"));
let node = null; // the custodiand child
let nodeLog = "";
let nodeExited = null; // a promise that settles when it exits
let context = null; // the browser (a persistent context on a fresh profile)
let page = null;
let cleaning = null;
let nodeExit = null; // how custodiand ended, once it has

function config() {
  const sim = (name, min, max, extra = {}) => ({
    name, driver: "sim", min_idle: min, max_size: max,
    health: { interval_ms: 1000, timeout_ms: 500 }, ...extra,
  });
  return {
    node: { name: "browser-test", admin: { bind: "127.0.0.1", port: 0, token_env: "CUSTODIAN_BROWSER_TEST_TOKEN" } },
    store: { kind: "sqlite", path: join(dir, "node.db") },
    logging: { level: "info", format: "text" },
    pools: [
      sim("db", 2, 4),
      sim("cache", 1, 3, { depends_on: [{ pool: "db", kind: "hard" }] }),
      sim("web", 1, 2, { depends_on: [{ pool: "cache", kind: "hard" }, { pool: "db", kind: "soft" }] }),
    ],
  };
}

/// Starts custodiand and resolves with its base URL once its log names the port.
function startNode() {
  const file = join(dir, "custodian.json");
  writeFileSync(file, JSON.stringify(config(), null, 2));
  node = spawn(CUSTODIAND, ["--config", file], {
    cwd: dir,
    env: { ...process.env, CUSTODIAN_BROWSER_TEST_TOKEN: TOKEN },
    stdio: ["ignore", "pipe", "pipe"],
  });
  nodeExited = new Promise((resolve) => node.once("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("custodiand did not say its admin port in 20 s")), 20_000);
    const onData = (chunk) => {
      nodeLog += chunk;
      const m = /admin on (http:\/\/127\.0\.0\.1:(\d+))/.exec(nodeLog);
      if (m && m[2] !== "0") {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    node.stdout.setEncoding("utf8").on("data", onData);
    node.stderr.setEncoding("utf8").on("data", onData);
    node.once("error", (e) => { clearTimeout(timer); reject(e); });
    nodeExited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`custodiand exited early (code ${code}, signal ${signal})`));
    });
  });
}

/// Polls until fn() returns a truthy value (a condition, not a sleep), bounded.
async function until(what, fn, timeoutMs = TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ": " + last.message : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(base, method, path, { token } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(base + path, { method, headers, body: method === "GET" ? undefined : "{}" });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/// The element with this test id once its whole text matches re (auto-waiting).
async function expectText(testid, re, timeout = TIMEOUT_MS) {
  const locator = page.getByTestId(testid).filter({ hasText: re });
  try {
    await locator.waitFor({ state: "visible", timeout });
  } catch (e) {
    const now = await page.getByTestId(testid).allTextContents().catch(() => []);
    throw new Error(`${testid} never matched ${re} in ${timeout} ms; it reads ${JSON.stringify(now)}`);
  }
  return locator;
}

async function run() {
  assert.ok(CUSTODIAND, "usage: node dashboard.test.mjs PATH_TO_CUSTODIAND (or set CUSTODIAND)");
  assert.ok(existsSync(CUSTODIAND), `no custodiand at ${CUSTODIAND}`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);

  const base = await startNode();
  log(`custodiand pid ${node.pid} at ${base} (temp dir ${dir})`);
  await until("/readyz to answer 200", async () => (await fetch(base + "/readyz")).status === 200, 30_000);
  log("node ready");

  context = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  page = context.pages()[0] || (await context.newPage());
  const consoleErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(`${msg.text()} (${msg.location().url || "?"})`);
  });
  page.on("pageerror", (e) => consoleErrors.push("uncaught: " + e.message));
  const failedRequests = [];
  page.on("response", (res) => {
    if (res.status() >= 400) failedRequests.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  log(`browser ${context.browser()?.version() ?? "(persistent context)"} up`);

  // --- the page loads and shows the pools -----------------------------------
  const response = await page.goto(base + "/", { waitUntil: "load" });
  assert.equal(response.status(), 200, "GET / answers 200");
  assert.equal(await page.title(), "Custodian");
  // A marker that survives only as long as the page is not reloaded.
  await page.evaluate(() => { window.__notReloaded = true; });

  await expectText("node-status", /browser-test .* ready/);
  for (const name of POOLS) {
    await page.getByTestId(`pool-${name}`).waitFor({ state: "visible" });
    await expectText(`pool-state-${name}`, /^active$/);
  }
  const cards = await page.locator('[data-testid^="pool-"]:is(article)').evaluateAll(
    (els) => els.map((e) => e.dataset.testid));
  assert.deepEqual(cards, POOLS.map((n) => `pool-${n}`), "the pool cards, in start order");
  log("pool cards show active");

  // The resource tiles: one per resource (min_idle warm ones at least).
  for (const [name, min] of [["db", 2], ["cache", 1], ["web", 1]]) {
    const tiles = page.getByTestId(`resources-${name}`).locator('[data-testid^="resource-"]');
    await tiles.nth(min - 1).waitFor({ state: "visible" }); // at least min_idle of them
    const detail = await api(base, "GET", `/api/v1/pools/${name}`);
    for (const r of detail.body.resources)
      await page.getByTestId(`resources-${name}`).getByTestId(`resource-${r.id}`).waitFor({ state: "attached" });
  }
  log("resource tiles shown");

  // The dependency graph draws the declared edges.
  for (const edge of ["edge-cache-db", "edge-web-cache", "edge-web-db"])
    await page.getByTestId(edge).waitFor({ state: "attached" });

  // The live feed has the events so far.
  await page.getByTestId("event-feed").locator('[data-testid^="event-"]').first().waitFor({ state: "visible" });
  log("event feed has events");

  assert.deepEqual(consoleErrors, [], "no console errors while the page loads");
  assert.deepEqual(failedRequests, [], "no failed requests while the page loads");

  // --- an action without a token shows the server's 401 ---------------------
  const refused = await api(base, "POST", "/api/v1/pools/cache/suspend");
  assert.equal(refused.status, 401, "the node refuses a mutation without a token");
  const message401 = refused.body.error.message;
  assert.ok(message401, "the 401 has a message");
  assert.equal(await page.getByTestId("token-input").inputValue(), "", "no token in the field yet");
  await page.getByTestId("action-suspend-cache").click();
  const escaped = message401.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  await expectText("message-bar", new RegExp(`unauthorized: ${escaped}`));
  assert.equal((await api(base, "GET", "/api/v1/pools/cache")).body.state, "active",
    "the refused action changed nothing");
  log(`401 shown: "${await page.getByTestId("message-bar").textContent()}"`);

  // --- a change through the API shows up without a reload --------------------
  const suspended = await api(base, "POST", "/api/v1/pools/cache/suspend", { token: TOKEN });
  assert.equal(suspended.status, 200, `suspend through the API: ${JSON.stringify(suspended.body)}`);
  await expectText("pool-state-cache", /^suspended$/);
  assert.equal(await page.evaluate(() => window.__notReloaded), true, "the page was not reloaded");
  log("API suspend reflected on the page");

  // --- an action from the page, with the token typed into the field ----------
  await page.getByTestId("token-input").fill(TOKEN);
  await page.getByTestId("action-resume-cache").click();
  await expectText("message-bar", /^resume cache: done$/);
  await expectText("pool-state-cache", /^active$/);
  assert.equal((await api(base, "GET", "/api/v1/pools/cache")).body.state, "active",
    "the node says cache is active again");
  assert.equal(await page.evaluate(() => window.__notReloaded), true, "the page was not reloaded");
  log("resume from the page worked");

  // --- a poll that brings nothing new leaves the page's buttons in place ------
  // (db has no dependencies, so nothing above changed it.) Replacing them on every
  // poll would drop a click that lands in between.
  const drainDb = await page.getByTestId("action-drain-db").elementHandle();
  for (let i = 0; i < 2; i++)
    await page.waitForResponse((r) => r.url() === `${base}/api/v1/pools/db` && r.ok(), { timeout: TIMEOUT_MS });
  assert.equal(await drainDb.evaluate((el) => el.isConnected), true, "db's card survived two polls");
  await drainDb.dispose();
  log("an unchanged card survives the polls");

  // --- the live feed shows the events of what just happened ------------------
  const poolEvents = (await api(base, "GET", "/api/v1/events?limit=10000")).body.events
    .filter((e) => e.pool === "cache" && e.to === "suspended");
  assert.ok(poolEvents.length > 0, "the node logged cache's suspension as an event");
  const ev = poolEvents[poolEvents.length - 1];
  await expectText(`event-${ev.seq}`, new RegExp(`^${ev.seq} .* cache .*→ suspended$`));
  const resumed = (await api(base, "GET", `/api/v1/events?since=${ev.seq}`)).body.events
    .find((e) => e.pool === "cache" && e.from === "suspended");
  assert.ok(resumed, "the node logged cache's resumption as an event");
  await page.getByTestId(`event-${resumed.seq}`).waitFor({ state: "visible" });
  // Each event is in the feed once.
  const seqs = await page.getByTestId("event-feed").locator("li").evaluateAll(
    (els) => els.map((e) => e.dataset.testid));
  assert.equal(new Set(seqs).size, seqs.length, "no event twice in the feed");
  log(`event feed shows the suspension (event ${ev.seq}) and the resumption (event ${resumed.seq})`);

  // The only console error is the browser's note of the refused (401) request.
  const unexpected = consoleErrors.filter((e) => !/status of 401/.test(e));
  assert.deepEqual(unexpected, [], "no console errors but the expected 401");
  assert.deepEqual(failedRequests.filter((r) => !r.startsWith("401 POST")), [], "no failed requests but the 401");
}

async function cleanup() {
  if (cleaning) return cleaning;
  cleaning = (async () => {
    if (context) await context.close().catch((e) => log("closing the browser: " + e.message));
    if (node && node.exitCode === null && node.signalCode === null) {
      node.kill("SIGTERM");
      const timer = setTimeout(() => { log("custodiand did not stop in 10 s: SIGKILL"); node.kill("SIGKILL"); }, 10_000);
      nodeExit = await nodeExited;
      clearTimeout(timer);
      log(`custodiand stopped (code ${nodeExit.code}, signal ${nodeExit.signal})`);
    }
  })();
  return cleaning;
}

async function onFailure(e) {
  console.log(`FAIL: ${e.stack || e}`);
  if (page) {
    const shot = join(dir, "failure.png");
    try {
      await page.screenshot({ path: shot, fullPage: true, timeout: 5_000 });
      console.log(`screenshot: ${shot}`);
    } catch (err) {
      console.log(`no screenshot: ${err.message}`);
    }
  }
  const logFile = join(dir, "custodiand.log");
  writeFileSync(logFile, nodeLog);
  console.log(`custodiand log: ${logFile}`);
}

let failed = false;
const watchdog = setTimeout(() => {
  failed = true;
  console.log(`FAIL: the whole run took over ${DEADLINE_MS / 1000} s`);
  onFailure(new Error("deadline")).finally(() => cleanup().finally(() => process.exit(1)));
}, DEADLINE_MS);
for (const sig of ["SIGINT", "SIGTERM"])
  process.once(sig, () => cleanup().finally(() => process.exit(1)));

try {
  await run();
  log("PASS");
} catch (e) {
  failed = true;
  await onFailure(e);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
// SIGTERM drains the node, which then exits 0 (DESIGN: Node).
if (!failed && (!nodeExit || nodeExit.code !== 0)) {
  failed = true;
  console.log(`FAIL: custodiand did not exit 0 on SIGTERM: ${JSON.stringify(nodeExit)}`);
  writeFileSync(join(dir, "custodiand.log"), nodeLog);
  console.log(`custodiand log: ${join(dir, "custodiand.log")}`);
}
if (!failed) rmSync(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
