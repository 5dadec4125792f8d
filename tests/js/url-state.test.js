// node --test tests/js/ — the page's address (url-state.js) against a stand-in for the browser's
// window: what each parameter reads back as, and what each write leaves of the others.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

import {
  absoluteLink, comparisonFromUrl, graphFromUrl, graphLink, modeFromUrl, setComparison, setGraph, setMode,
} from '../../static/js/shared/url-state.js';

/** A window whose address is `href`; replaceState moves it and counts the writes. */
function fakeWindow(href) {
  const win = { writes: 0 };
  win.location = { get href() { return href; }, get hash() { return new URL(href).hash; } };
  win.history = { replaceState: (_state, _title, url) => { href = String(url); win.writes++; } };
  return win;
}

beforeEach(() => {
  globalThis.window = fakeWindow('http://host:5000/');
});

test('a bare address opens the reference example in graph mode, comparing nothing', () => {
  assert.deepEqual(graphFromUrl(), { ref: 'example:reference.expr', sharedId: null });
  assert.equal(modeFromUrl(), 'graph');
  assert.deepEqual(comparisonFromUrl(), { runs: [], focus: null });
});

test('?shared=ID opens the shared graph "shared:ID", and wins over ?graph=', () => {
  globalThis.window = fakeWindow('http://host:5000/?graph=example:a.expr&shared=k3y');
  assert.deepEqual(graphFromUrl(), { ref: 'shared:k3y', sharedId: 'k3y' });
});

test('setGraph swaps ?graph= and ?shared= and keeps the runs, the focus and the hash', () => {
  globalThis.window = fakeWindow('http://host:5000/?runs=a,b&focus=c#training');
  setGraph('shared:k3y');
  assert.equal(globalThis.window.location.href, 'http://host:5000/?runs=a%2Cb&focus=c&shared=k3y#training');
  setGraph('model:resnet:128');
  assert.equal(globalThis.window.location.href, 'http://host:5000/?runs=a%2Cb&focus=c&graph=model%3Aresnet%3A128#training');
  assert.deepEqual(graphFromUrl(), { ref: 'model:resnet:128', sharedId: null });
  assert.deepEqual(comparisonFromUrl(), { runs: ['a', 'b'], focus: 'c' });
  assert.equal(modeFromUrl(), 'training');
});

test('the mode is the #training hash; graph mode leaves no hash', () => {
  globalThis.window = fakeWindow('http://host:5000/?graph=example:a.expr');
  setMode('training');
  assert.equal(globalThis.window.location.href, 'http://host:5000/?graph=example:a.expr#training');
  setMode('graph');
  assert.equal(globalThis.window.location.href, 'http://host:5000/?graph=example:a.expr');
});

test('setComparison writes ?runs= and ?focus=, drops them when empty, and only writes on change', () => {
  setComparison({ runs: ['r1', 'r2'], focus: 'r3' });
  assert.deepEqual(comparisonFromUrl(), { runs: ['r1', 'r2'], focus: 'r3' });
  assert.equal(globalThis.window.writes, 1);
  setComparison({ runs: ['r1', 'r2'], focus: 'r3' });
  assert.equal(globalThis.window.writes, 1);
  setComparison({ runs: [], focus: null });
  assert.equal(globalThis.window.location.href, 'http://host:5000/');
});

test('links: examples and models by ?graph=, shared graphs by ?shared=, uploads only once shared', () => {
  assert.equal(graphLink('example:reference.expr'), 'http://host:5000/?graph=example%3Areference.expr');
  assert.equal(graphLink('shared:k3y'), 'http://host:5000/?shared=k3y');
  assert.equal(graphLink('9f2c'), null);
  assert.equal(absoluteLink('/?shared=k3y'), 'http://host:5000/?shared=k3y');
});

test('behind a proxy, under /backprop/, links stay under the prefix the page is served at', () => {
  globalThis.window = fakeWindow('https://uni.example/backprop/?graph=example:a.expr#training');
  assert.equal(graphLink('example:reference.expr'), 'https://uni.example/backprop/?graph=example%3Areference.expr');
  assert.equal(graphLink('shared:k3y'), 'https://uni.example/backprop/?shared=k3y');
  // The server names shared links with its prefix (url_for): they resolve as they are.
  assert.equal(absoluteLink('/backprop/?shared=k3y'), 'https://uni.example/backprop/?shared=k3y');
});
