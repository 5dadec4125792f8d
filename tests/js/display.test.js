// node --test tests/js/ — issue 11's pure pieces of the page's look: where a fitted view puts a
// graph (fit.js), which text colour reads on a data colour (colors.js, checked against the WCAG
// 2.1 formula's published values) and projector mode in the address (url-state.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { fitTransform } from '../../static/js/graph/fit.js';
import { contrast, inkOn, gradientColor, magnitudeColor } from '../../static/js/shared/colors.js';
import { projectorFromUrl, setProjector } from '../../static/js/shared/url-state.js';

test('a graph that fits is centred at the largest scale allowed', () => {
  const t = fitTransform({ width: 800, height: 600, bounds: { x0: 0, y0: 0, x1: 100, y1: 50 }, pad: 0, maxScale: 2 });
  assert.equal(t.k, 2);
  // Centred: the bounds' centre (50, 25) lands on the view's centre (400, 300).
  assert.equal(t.x + t.k * 50, 400);
  assert.equal(t.y + t.k * 25, 300);
});

test('a big graph shrinks to fit, unless that would make its labels smaller than allowed', () => {
  const bounds = { x0: 10, y0: -20, x1: 1610, y1: 380 };
  const shrunk = fitTransform({ width: 800, height: 600, bounds, pad: 0 });
  assert.equal(shrunk.k, 0.5);
  assert.equal(shrunk.x + 0.5 * 810, 400); // still centred
  const readable = fitTransform({ width: 800, height: 600, bounds, pad: 16, minScale: 1 });
  assert.equal(readable.k, 1);
  // Too wide at scale 1: it starts at the left edge (the inputs), the rest is panned to.
  assert.equal(readable.x + 1 * bounds.x0, 16);
  // Its height fits: centred vertically.
  assert.equal(readable.y + 1 * (bounds.y0 + 200), 300);
});

test('the WCAG contrast ratio matches its published values', () => {
  assert.equal(contrast('#000', '#fff'), 21);
  assert.ok(Math.abs(contrast('#777777', '#ffffff') - 4.48) < 0.01);
  assert.equal(contrast('#fff', '#fff'), 1);
});

test('text on any colour of the data scales reaches AA (4.5:1)', () => {
  const diverging = gradientColor(10);
  const sequential = magnitudeColor(1e-4, 1);
  const fills = [];
  for (let k = 0; k <= 200; k++) fills.push(diverging(-10 + k / 10));
  for (let k = 0; k <= 100; k++) fills.push(sequential(10 ** (-4 + k / 25)));
  for (const fill of fills) {
    assert.ok(contrast(inkOn(fill), fill) >= 4.5, `${inkOn(fill)} on ${fill}: ${contrast(inkOn(fill), fill)}`);
  }
  assert.equal(inkOn('#67001f'), '#fff'); // the darkest red: white text
  assert.equal(inkOn('#f7f7f7'), '#000'); // near zero: black text
});

function fakeWindow(href) {
  const win = {};
  win.location = { get href() { return href; }, get hash() { return new URL(href).hash; } };
  win.history = { replaceState: (_state, _title, url) => { href = String(url); } };
  return win;
}

test('?projector=1 turns projector mode on; turning it off forgets it and keeps the rest', () => {
  globalThis.window = fakeWindow('http://host:5000/?graph=example:a.expr#training');
  assert.equal(projectorFromUrl(), false);
  setProjector(true);
  assert.equal(globalThis.window.location.href, 'http://host:5000/?graph=example%3Aa.expr&projector=1#training');
  assert.equal(projectorFromUrl(), true);
  setProjector(false);
  assert.equal(globalThis.window.location.href, 'http://host:5000/?graph=example%3Aa.expr#training');
  assert.equal(projectorFromUrl(), false);
});
