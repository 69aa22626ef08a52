// What keyboard users and small screens need of a page, measured in the browser: where the
// focus is and whether it can be seen (an outline of 2 px or more at 3:1 contrast with what is
// around it, WCAG 2.1 1.4.11 and 2.4.7, or a box shadow), and whether the page fits its width
// without horizontal scrolling (WCAG 2.1 1.4.10 Reflow: down to 320 CSS pixels) with every
// checkbox and radio button beside its label.
import assert from 'node:assert/strict';

// Widths (CSS pixels) at which every page must fit: the narrowest WCAG's reflow asks for, and a
// common phone's.
export const PHONE_WIDTHS = [320, 360];

// Relative luminance of an sRGB colour given as [r, g, b] (0..255).
function luminance(rgb) {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// The contrast ratio of two computed CSS colours ("rgb(1, 2, 3)").
export function contrast(a, b) {
  const rgb = (c) => (/rgba?\(([^)]*)\)/.exec(c) || [null, '0,0,0'])[1].split(',').slice(0, 3).map(Number);
  const [hi, lo] = [luminance(rgb(a)), luminance(rgb(b))].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// The focused element: its id (or tag.class when it has none), whether it is checked, and how
// it looks focused: its outline, box shadow, and the background it sits on (the nearest
// ancestor's that is not transparent, else white). {id: null} when nothing has the focus.
export async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body || e === document.documentElement) return { id: null };
    const s = getComputedStyle(e);
    let background = 'rgb(255, 255, 255)';
    for (let a = e.parentElement; a; a = a.parentElement) {
      const c = getComputedStyle(a).backgroundColor;
      if (c && c !== 'transparent' && !/rgba\([^)]*,\s*0\)$/.test(c)) {
        background = c;
        break;
      }
    }
    return {
      id: e.id || [e.localName, ...e.classList].join('.'),
      checked: e.checked === true,
      outlineStyle: s.outlineStyle,
      outlineWidth: parseFloat(s.outlineWidth) || 0,
      outlineColor: s.outlineColor,
      boxShadow: s.boxShadow,
      background,
    };
  });
}

// Asserts that the focus, as focused() saw it, is visible.
export function assertFocusVisible(f) {
  if (f.boxShadow && f.boxShadow !== 'none') return;
  assert.notEqual(f.outlineStyle, 'none', `${f.id} shows no focus: no outline and no box shadow`);
  // 'auto' is the browser's own focus ring, drawn to be seen on any background.
  if (f.outlineStyle === 'auto') return;
  assert.ok(f.outlineWidth >= 2, `${f.id}'s focus outline is ${f.outlineWidth}px thin`);
  const c = contrast(f.outlineColor, f.background);
  assert.ok(c >= 3, `${f.id}'s focus outline ${f.outlineColor} on ${f.background}: contrast ` +
    `${c.toFixed(2)}:1, under 3:1`);
}

// Presses `key` ("Tab", "Shift+Tab", "ArrowDown" ...) and asserts that the focus lands on the
// element with id `id` and can be seen there. Returns focused().
export async function pressTo(page, key, id) {
  await page.keyboard.press(key);
  const f = await focused(page);
  assert.equal(f.id, id, `${key} moved the focus to ${f.id}, not to ${id}`);
  assertFocusVisible(f);
  return f;
}

// What does not fit at the current viewport: horizontal scrolling (the page wider than the
// window), and any checkbox or radio button that is not beside its label's text (a box alone on
// its line, its label wrapped below it).
export async function layoutProblems(page) {
  return page.evaluate(() => {
    const bad = [];
    const { scrollWidth } = document.documentElement;
    if (scrollWidth > window.innerWidth) bad.push(`scrollWidth ${scrollWidth} > innerWidth ${window.innerWidth}`);
    for (const box of document.querySelectorAll('input[type=checkbox], input[type=radio]')) {
      const b = box.getBoundingClientRect();
      const label = box.labels && box.labels[0];
      if (!b.height || !label) continue; // hidden; a missing label is the audit's to find
      let top = Infinity;
      let bottom = -Infinity;
      const texts = document.createTreeWalker(label, NodeFilter.SHOW_TEXT);
      for (let t = texts.nextNode(); t; t = texts.nextNode()) {
        const r = document.createRange();
        r.selectNodeContents(t);
        for (const line of r.getClientRects()) {
          if (line.width && line.height) {
            top = Math.min(top, line.top);
            bottom = Math.max(bottom, line.bottom);
          }
        }
      }
      const middle = (b.top + b.bottom) / 2;
      if (middle < top || middle > bottom) bad.push(`#${box.id} is not beside its label's text`);
    }
    return bad;
  });
}

// layoutProblems at each width of PHONE_WIDTHS, each prefixed with "<width>px: "; leaves the
// viewport at the last width, `height` high.
export async function phoneLayoutProblems(page, height = 740) {
  const bad = [];
  for (const width of PHONE_WIDTHS) {
    await page.setViewportSize({ width, height });
    bad.push(...(await layoutProblems(page)).map((p) => `${width}px: ${p}`));
  }
  return bad;
}

// Asserts that the page (`what`) fits every phone width: no horizontal scrolling, every box
// beside its label.
export async function assertFitsPhones(page, what) {
  assert.deepEqual(await phoneLayoutProblems(page), [], `${what} does not fit a phone (${page.url()})`);
}
