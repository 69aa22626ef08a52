// Automated accessibility audits with the npm package axe-core (pinned in tests/package.json):
// its script is injected into the page under test and run there with the rules of WCAG 2.0 and
// 2.1, levels A and AA. The pages' Content-Security-Policy forbids inline scripts, so the audit's
// browser context must be made with bypassCSP (see watchedContext).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { skip } from '../../e2e/lib/prereq.mjs';

export const WCAG_A_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let source = null;

// axe-core is a test tool, like playwright-core: without it the test SKIPs (exit 77; a failure
// when ESG_TESTS_REQUIRE_ALL is set). Returns its version.
export function requireAxe() {
  try {
    const require = createRequire(import.meta.url);
    source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    return require('axe-core/package.json').version;
  } catch (e) {
    return skip(`the npm package axe-core is not installed (tools/setup.sh --test, or cd tests && npm ci): ${e.message}`);
  }
}

// Runs axe on the page as it is now. `disable`: rule ids not to run on this page (each only
// for a false positive, with the reason next to the call). Returns the violations:
// [{id, impact, help, helpUrl, nodes: [{target, summary}]}].
export async function audit(page, { disable = [] } = {}) {
  if (!source) throw new Error('requireAxe() first');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ content: source });
  }
  return page.evaluate(async ({ tags, off }) => {
    const r = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      rules: Object.fromEntries(off.map((id) => [id, { enabled: false }])),
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  }, { tags: WCAG_A_AA, off: disable });
}

// The violations in words, one rule a paragraph: id, impact, help text, and each failing node.
export function describe(violations) {
  return violations.map((v) => `  ${v.id} (${v.impact}): ${v.help} <${v.helpUrl}>\n` +
    v.nodes.map((n) => `    ${n.target}\n      ${String(n.summary).replace(/\n/g, '\n      ')}`).join('\n'))
    .join('\n');
}
