// Opens a vmtest report in headless Chromium (Debian's `chromium`) over the
// DevTools protocol on a pipe (--remote-debugging-pipe: NUL-terminated JSON
// on fds 3 and 4; no npm packages) and checks what a person looks for:
//   - every node of the event log has a lane in the timeline;
//   - the failing test's block is open and names the node of its failing command;
//   - a passing test's block is collapsed;
//   - clicking a command's block scrolls its node's serial log to that command's
//     console output (not on screen before the click, on screen after);
//   - the page loads nothing but itself (no network, no external assets).
// Saves a screenshot. Usage:
//   node check-report.mjs REPORT.html EVENTS.jsonl SCREENSHOT.png
// Environment: CHROMIUM (default "chromium"). Exits 1 with the failed checks.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [reportPath, eventsPath, shotPath] = process.argv.slice(2);
if (!shotPath) {
  console.error("usage: node check-report.mjs REPORT.html EVENTS.jsonl SCREENSHOT.png");
  process.exit(2);
}
const events = readFileSync(eventsPath, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l));
const expectedNodes = [...new Set(events.filter((e) => e.type === "machine_start").map((e) => e.node))].sort();
const failingCmd = events.find((e) => e.type === "command" && e.status === 3 && /failing-on-purpose/.test(e.command));
if (!expectedNodes.length || !failingCmd) {
  console.error(`check-report: ${eventsPath} has no machine_start events or no failing "failing-on-purpose" command`);
  process.exit(1);
}

const profile = mkdtempSync(join(tmpdir(), "vmtest-chromium-"));
const browser = spawn(process.env.CHROMIUM || "chromium",
  ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
   `--user-data-dir=${profile}`, "--window-size=1400,1000", "about:blank"],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], detached: false });
let stderr = "";
browser.stderr.on("data", (d) => { stderr += d; });
const deadline = setTimeout(() => fail(["no answer from chromium within 90 s"]), 90_000);

let nextId = 1, buffer = "";
const pending = new Map(), listeners = [];
browser.stdio[4].on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const msg = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (msg.id && pending.has(msg.id)) {
      const { ok, ko, method } = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? ko(new Error(`${method}: ${msg.error.message}`)) : ok(msg.result);
    } else if (msg.method) listeners.forEach((l) => l(msg));
  }
});
browser.on("exit", (code, sig) => {
  if (pending.size) fail([`chromium exited (${code ?? sig}) with calls pending:\n${stderr.slice(-2000)}`]);
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  browser.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + "\0");
  return new Promise((ok, ko) => pending.set(id, { ok, ko, method }));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function fail(problems) {
  console.error("check-report: FAILED\n  " + problems.join("\n  "));
  cleanup();
  process.exit(1);
}
function cleanup() {
  clearTimeout(deadline);
  try { browser.kill("SIGKILL"); } catch {}
  // Chromium may still be writing its profile while it dies.
  try { rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); } catch {}
}

const requests = [], pageErrors = [];
listeners.push((m) => {
  if (m.method === "Network.requestWillBeSent") requests.push(m.params.request.url);
  if (m.method === "Runtime.exceptionThrown")
    pageErrors.push(m.params.exceptionDetails.exception?.description || m.params.exceptionDetails.text);
});

try {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  const evaluate = async (expr) => {
    const r = await s("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    return r.result.value;
  };
  await s("Runtime.enable");
  await s("Network.enable");
  await s("Page.enable");
  await s("Emulation.setDeviceMetricsOverride", { width: 1400, height: 1000, deviceScaleFactor: 1, mobile: false });
  const url = pathToFileURL(resolve(reportPath)).href;
  await s("Page.navigate", { url });
  for (let i = 0; ; ++i) {
    if (await evaluate(`document.readyState === "complete" && !!document.querySelector("#tests details")`)) break;
    if (i > 200 || pageErrors.length)
      throw new Error(`the report did not render any block within 20 s; errors in the page: ${pageErrors.join("; ") || "none"}`);
    await sleep(100);
  }
  // Clicks where a person would: the element's centre, with the mouse.
  // `find` is a JS expression for the element.
  const click = async (find) => {
    const box = await evaluate(`(() => { const e = ${find};
      if (!e) return null;
      for (let p = e.parentElement.closest("details"); p; p = p.parentElement.closest("details")) p.open = true;
      e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
      return {x: r.left + Math.min(r.width / 2, 40), y: r.top + r.height / 2}; })()`);
    if (!box) throw new Error(`nothing to click: ${find}`);
    for (const type of ["mousePressed", "mouseReleased"])
      await s("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
    await sleep(150);
  };
  const markerVisible = (node) => evaluate(`(() => {
    const log = document.querySelector('.log[data-node=${JSON.stringify(node)}]');
    if (!log) return null;
    const top = log.scrollTop, bottom = top + log.clientHeight;
    return [...log.children].some((d) => d.offsetTop >= top && d.offsetTop < bottom &&
      d.textContent.includes("vmtest-report-marker-" + ${JSON.stringify(node)}));
  })()`);

  const problems = [];
  const lanes = (await evaluate(`[...document.querySelectorAll("#timeline .lane[data-node]")]
    .filter((l) => l.querySelector(".bar")).map((l) => l.dataset.node)`)).sort();
  if (JSON.stringify(lanes) !== JSON.stringify(expectedNodes))
    problems.push(`lanes with bars ${JSON.stringify(lanes)}, expected one per node ${JSON.stringify(expectedNodes)}`);

  const failed = await evaluate(`[...document.querySelectorAll("details.test.failed")].map((d) =>
    ({open: d.open, summary: d.querySelector("summary").textContent, text: d.querySelector(".failure")?.textContent || ""}))`);
  if (failed.length !== 1) problems.push(`${failed.length} failed test blocks, expected 1`);
  for (const f of failed) {
    if (!f.open) problems.push(`the failed test block "${f.summary}" is collapsed`);
    if (!f.summary.includes("CommandFailsOnPurpose")) problems.push(`the failed block is "${f.summary}"`);
    if (!f.text.includes(`error on node ${failingCmd.node}`))
      problems.push(`the failed block does not name node ${failingCmd.node}: ${f.text.slice(0, 300)}`);
    if (!f.text.includes("exit 3")) problems.push("the failed block does not name the failing command");
  }
  const passed = await evaluate(`[...document.querySelectorAll("details.test.passed")].map((d) => d.open)`);
  if (!passed.length) problems.push("no passed test block");
  if (passed.some((o) => o)) problems.push("a passed test block is open");

  for (const node of expectedNodes) {
    // First elsewhere, then the node's marker command.
    // The suite's block starts before the boot: every log back at its top.
    await click(`document.querySelector("details.suite > summary")`);
    const before = await markerVisible(node);
    const marker = `[...document.querySelectorAll('details.command[data-node=${JSON.stringify(node)}] > summary')]
      .find((x) => x.textContent.includes("echo vmtest-report-marker-${node}"))`;
    if (!(await evaluate(`!!${marker}`))) {
      problems.push(`node ${node}: no command block for its marker command`);
      continue;
    }
    await click(marker);
    const after = await markerVisible(node);
    if (before !== false || after !== true)
      problems.push(`node ${node}: marker on screen before the click: ${before}, after clicking its command: ${after}`);
  }
  // Leave the failing command selected for the screenshot.
  await click(`document.querySelector("details.test.failed details.command.failed > summary")`);

  if (pageErrors.length) problems.push(`errors in the page: ${pageErrors.join("; ")}`);
  const foreign = requests.filter((u) => !u.startsWith("file:") && !u.startsWith("data:") && u !== "about:blank");
  if (foreign.length) problems.push(`the page requested ${foreign.join(", ")}`);
  if (!requests.includes(url)) problems.push(`the network log did not see the page itself (${requests.join(", ")})`);

  const shot = await s("Page.captureScreenshot", { format: "png" });
  writeFileSync(shotPath, Buffer.from(shot.data, "base64"));
  if (problems.length) fail(problems);
  console.log(`check-report: ok: ${expectedNodes.length} lanes (${expectedNodes.join(", ")}), failed block open naming ` +
    `${failingCmd.node}, each marker command scrolls its log; screenshot ${shotPath}`);
  cleanup();
  process.exit(0);
} catch (e) {
  fail([String(e && e.stack || e), stderr.slice(-2000)]);
}
