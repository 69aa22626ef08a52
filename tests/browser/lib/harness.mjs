// One browser test: esignetd (tests/e2e/lib, a free port, the demo identities), the demo relying
// party registered with it, and headless Chromium with a watched browser context. Whatever
// happens, Chromium, the demo RP and esignetd are stopped at the end. The test fails on a console
// error, an uncaught exception or a CSP violation on any page, and on an esignetd sanitizer
// report; on failure the pages are photographed and the servers' logs added to the message.
import assert from 'node:assert/strict';
import { startOp } from '../../e2e/lib/op.mjs';
import { requireNode } from '../../e2e/lib/prereq.mjs';
import { Screenshots, launch, requirePlaywright, watchedContext } from './chromium.mjs';
import { DemoRp } from './demo_rp.mjs';

let chromium = null;

// Call before importing node:test: exits 77 (SKIP) without Node.js 18+, Chromium or
// playwright-core.
export async function requireBrowser() {
  requireNode();
  chromium = await requirePlaywright();
}

// Runs fn({op, rp, page, newPage, shot}) where `page` is in a fresh browser context (locale
// `locale`, and the options `context` of watchedContext: viewport, bypassCSP), newPage(options)
// opens a page in another fresh context (another browser, as far as cookies go) and
// shot(step, page?) saves a screenshot under <screenshots>/<name>/.
export async function demoTest(name, fn, { locale = 'en-US', context = {}, opOptions = {} } = {}) {
  assert.ok(chromium, 'requireBrowser() first');
  const shots = new Screenshots(name);
  const contexts = [];
  let op = null;
  let rp = null;
  let browser = null;
  let failure = null;
  try {
    op = await startOp(opOptions);
    rp = await new DemoRp({ issuer: op.issuer, adminToken: op.adminToken }).start();
    browser = await launch(chromium);
    const newPage = async (options = {}) => {
      const c = await watchedContext(browser, { locale, ...context, ...options });
      contexts.push(c);
      return c.newPage();
    };
    const page = await newPage();
    await fn({ op, rp, page, newPage, shot: (step, p = page) => shots.take(p, step) });
    const problems = contexts.flatMap((c) => c.watch.problems);
    assert.deepEqual(problems, [], 'the pages had console errors, uncaught exceptions or CSP violations');
  } catch (e) {
    failure = e;
    const pages = contexts.flatMap((c) => c.pages());
    for (const p of pages) await shots.take(p, 'failure').catch(() => {});
    e.message += `\n  pages: ${pages.map((p) => p.url()).join(' ')}` +
      `\n  page problems: ${JSON.stringify(contexts.flatMap((c) => c.watch.problems), null, 1)}` +
      `\n  screenshots: ${shots.dir}` +
      `\n--- esignetd log ---\n${op ? op.logTail(20) : ''}\n--- demo RP log ---\n${rp ? rp.logTail(10) : ''}`;
    throw e;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (rp) await rp.stop().catch(() => {});
    // esignetd's own stop fails on a sanitizer report or an unclean exit: that fails the test
    // unless it already failed.
    if (op) {
      try {
        await op.stop();
      } catch (e) {
        if (!failure) throw e;
      }
    }
  }
}
