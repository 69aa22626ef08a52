// Debian's Chromium, headless, driven by the npm playwright-core (which never downloads a
// browser). Every page is watched: console errors, uncaught exceptions and Content Security
// Policy violations (the `securitypolicyviolation` event, reported to Node) are kept per page so
// that a test can assert its pages ran clean; documents loaded (with redirects) are recorded.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { skip } from '../../e2e/lib/prereq.mjs';
import { SOURCE_DIR } from '../../e2e/lib/util.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const VIEWPORT = { width: 1000, height: 800 };
// A small phone's screen (CSS pixels), for the responsive and keyboard tests.
export const PHONE = { width: 360, height: 740 };

// The browser and playwright-core are test tools: without them the tests SKIP (exit 77; a
// failure when ESG_TESTS_REQUIRE_ALL is set, as in tools/test.sh).
export async function requirePlaywright() {
  // playwright-core is pinned at 1.61, the last release that runs on Debian 12's Node.js 18.
  if (parseInt(process.versions.node, 10) < 18) {
    return skip(`playwright-core 1.61 needs Node.js 18 or later, this is ${process.versions.node}`);
  }
  if (!existsSync(CHROMIUM)) {
    return skip(`${CHROMIUM} not found (Debian package chromium: tools/setup.sh --test)`);
  }
  try {
    return (await import('playwright-core')).chromium;
  } catch (e) {
    return skip(`the npm package playwright-core is not installed (tools/setup.sh --test, or cd tests && npm ci): ${e.message}`);
  }
}

export async function launch(chromium) {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      // Nothing but loopback: any other host name fails to resolve, so a third-party request
      // shows up as a failed load instead of leaving the machine.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--disable-dev-shm-usage',
      '--disable-features=Translate,OptimizationHints,MediaRouter',
    ],
  });
}

// A new browser context (its own cookies: another user agent) whose pages are all watched.
// `locale` sets navigator.language and Accept-Language. `bypassCSP` makes Chromium ignore the
// pages' Content-Security-Policy (only for injecting a test tool's script, as the accessibility
// audit does): its pages cannot report CSP violations, so a test that checks the policy must not
// use it.
export async function watchedContext(browser, { locale = 'en-US', viewport = VIEWPORT, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, locale, bypassCSP });
  context.setDefaultTimeout(15000);
  context.setDefaultNavigationTimeout(15000);
  // failedLoads: URLs a test opens knowing that they answer an error status (an error page),
  // whose "Failed to load resource" console error is then expected (watch.expectFailedLoad).
  const watch = { problems: [], documents: [], requests: [], failedLoads: new Set() };
  watch.expectFailedLoad = (url) => watch.failedLoads.add(url);
  context.watch = watch;
  await context.exposeBinding('__esgCspViolation', ({ page }, v) => {
    watch.problems.push(`CSP violation on ${page.url()}: ${v.directive} blocked ${v.blocked} ` +
      `at ${v.source}:${v.line} ${v.sample || ''}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      // eslint-disable-next-line no-underscore-dangle
      window.__esgCspViolation({
        directive: e.violatedDirective, blocked: e.blockedURI, source: e.sourceFile,
        line: e.lineNumber, sample: e.sample,
      });
    });
  });
  const onPage = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'assert') {
        const loc = msg.location();
        if (loc && watch.failedLoads.has(loc.url) &&
            /^Failed to load resource: the server responded with a status of [45]\d\d/.test(msg.text())) {
          return;
        }
        watch.problems.push(`console.${msg.type()} on ${page.url()}: ${msg.text()}` +
          `${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
      }
    });
    page.on('pageerror', (err) => watch.problems.push(`uncaught on ${page.url()}: ${err.stack || err}`));
  };
  context.on('page', onPage);
  context.on('request', (req) => watch.requests.push({ method: req.method(), url: req.url() }));
  context.on('response', (res) => {
    if (res.request().resourceType() === 'document') {
      watch.documents.push({ url: res.url(), status: res.status() });
    }
  });
  return context;
}

// Screenshots of every page a test visits: <root>/<test>/<nn>-<step>.png, the root from
// ESG_BROWSER_SCREENSHOTS (set by ctest to the build folder).
export class Screenshots {
  constructor(test) {
    const root = process.env.ESG_BROWSER_SCREENSHOTS ||
      path.join(SOURCE_DIR, 'build', 'tests', 'browser', 'screenshots');
    this.dir = path.join(root, test);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    this.n = 0;
  }

  async take(page, step) {
    const file = path.join(this.dir, `${String(++this.n).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }
}
