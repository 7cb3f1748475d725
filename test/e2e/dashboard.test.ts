/**
 * The local dashboard in a real browser (headless Chromium through playwright-core): the tree with
 * three healthy agents, a chat that continues its thread on the same agent, and a scale change
 * appearing without a reload. The page must hold neither the dev key nor the admin key.
 */
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { get } from "node:http";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT, runCliToExit, startPoolProcess, type PoolProcess } from "../helpers/pool-process";
import { adminFilePath, readAdminFile } from "../../runtime/local/admin-file";

const CHROMIUM = "/usr/bin/chromium";
const API_KEY = "cust_dashboard_" + "d".repeat(24);
let pool: PoolProcess;
let browser: BrowserContext;
let page: Page;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  dir = mkdtempSync(join(tmpdir(), "agentpool-dashboard-"));
  pool = await startPoolProcess({ config: join(ROOT, "test", "fixtures", "Pulumi.e2e.yaml"), apiKey: API_KEY, dataDir: join(dir, "data"), env: { E2E_UNREACHABLE_KEY: "x" } });
  // A fresh profile per run (playwright takes it as userDataDir rather than --user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, "chromium"), {
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await browser.newPage();
  await page.goto(`${pool.url}/`);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pool?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const support = () => page.locator('[data-deployment="support-team/customer-support"]');

test("the tree shows the support deployment's three healthy agents", async () => {
  const healthyRows = support().locator('tbody tr[data-healthy="true"]');

  await healthyRows.nth(2).waitFor({ timeout: 20_000 });

  expect(await healthyRows.locator("th").allTextContents()).toEqual([1, 2, 3].map((n) => `support-team-customer-support-${n}`));
  expect(await support().locator('[data-field="desired"]').textContent()).toBe("3");
  expect(await support().locator('[data-field="healthy"]').textContent()).toBe("3");
  expect(await page.getByRole("heading", { name: "Alerts" }).isVisible()).toBe(true);
  expect(await support().locator("svg[role=img]").count()).toBe(2);
});

test("a chat ask gets an answer and the follow-up is answered by the same agent", async () => {
  await page.getByLabel("Endpoint").selectOption("support");
  await page.getByLabel("Message").fill("My order has not arrived.");
  await page.getByRole("button", { name: "Ask" }).click();
  const first = page.locator("#conversation li.agent").nth(0);
  await first.waitFor({ timeout: 15_000 });

  await page.getByLabel("Message").fill("It was order 42.");
  await page.getByRole("button", { name: "Ask" }).click();
  const second = page.locator("#conversation li.agent").nth(1);
  await second.waitFor({ timeout: 15_000 });

  expect(await first.textContent()).toContain('You said: "My order has not arrived."');
  expect(await second.textContent()).toContain("I was given 2 earlier turns");
  const agent = await first.getAttribute("data-agent-id");
  expect(agent).toMatch(/^support-team-customer-support-\d$/);
  expect(await second.getAttribute("data-agent-id")).toBe(agent);
  expect(await page.locator("#thread").textContent()).toMatch(/^thread thr_/);
});

test("a scale change made from the CLI appears without a reload", async () => {
  const marker = await page.evaluate(() => ((globalThis as any).__sameDocument = Math.random()));
  await runCliToExit(["scale", "support-team/customer-support", "4", "--stack", "e2e", "--data-dir", join(dir, "data")]);

  await support().locator('tbody tr[data-agent-id="support-team-customer-support-4"][data-healthy="true"]').waitFor({ timeout: 20_000 });

  expect(await support().locator('[data-field="desired"]').textContent()).toBe("4");
  expect(await page.evaluate(() => (globalThis as any).__sameDocument)).toBe(marker);
});

test("the page holds neither the dev key nor the admin key, and other Hosts are refused", async () => {
  const html = await page.content();
  const admin = readAdminFile(adminFilePath(join(dir, "data"), "e2e"));
  // A page on another name that rebinds its DNS to 127.0.0.1 arrives with its own Host header.
  const rebound = await new Promise<number>((resolve, reject) =>
    get(`${pool.url}/`, { headers: { host: "attacker.example" } }, (res) => resolve(res.resume().statusCode!)).on("error", reject),
  );
  const noToken = await fetch(`${pool.url}/admin/v1/status`);

  expect(html).not.toContain(API_KEY);
  expect(html).not.toContain(admin.adminKey);
  expect(rebound).toBe(403);
  expect(noToken.status).toBe(401);
});
