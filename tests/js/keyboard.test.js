// node --test tests/js/ — moving between a graph's nodes with the arrow keys (node-navigation.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { NodeNavigator, firstInReadingOrder } from '../../static/js/graph/node-navigation.js';

// A seeded generator, so that a failure names its case.
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function scatter(seed, n) {
  const r = random(seed);
  // Columns as a layered layout makes them: a few x values, many y values.
  const x = Array.from({ length: n }, () => Math.floor(r() * 6) * 120);
  const y = Array.from({ length: n }, () => Math.round(r() * 500));
  return { x, y };
}

test('every node is reachable from Home with the arrow keys', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const { x, y } = scatter(seed, 1 + (seed % 17) * 3);
    for (const lines of ['columns', 'rows']) {
      const nav = new NodeNavigator(x, y, { lines });
      const seen = new Set([nav.first()]);
      const queue = [nav.first()];
      while (queue.length) {
        const k = queue.shift();
        for (const key of ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight', 'Home', 'End']) {
          const next = nav.move(k, key);
          if (!seen.has(next)) { seen.add(next); queue.push(next); }
        }
      }
      assert.equal(seen.size, x.length, `seed ${seed} ${lines}`);
    }
  }
});

test('each arrow moves the way it points, or stays at the edge', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const { x, y } = scatter(seed, 40);
    const nav = new NodeNavigator(x, y, { lines: 'columns' });
    for (let k = 0; k < x.length; k++) {
      const right = nav.move(k, 'ArrowRight');
      assert.ok(right === k || x[right] > x[k], `seed ${seed}: → from ${k}`);
      const left = nav.move(k, 'ArrowLeft');
      assert.ok(left === k || x[left] < x[k], `seed ${seed}: ← from ${k}`);
      const down = nav.move(k, 'ArrowDown');
      assert.ok(down === k || (x[down] === x[k] && y[down] >= y[k]), `seed ${seed}: ↓ from ${k}`);
      const up = nav.move(k, 'ArrowUp');
      assert.ok(up === k || (x[up] === x[k] && y[up] <= y[k]), `seed ${seed}: ↑ from ${k}`);
      // Across: the nearest node of the next column, by y.
      if (right !== k) {
        const column = x.map((v, j) => j).filter((j) => x[j] === x[right]);
        const best = Math.min(...column.map((j) => Math.abs(y[j] - y[k])));
        assert.equal(Math.abs(y[right] - y[k]), best);
      }
    }
  }
});

test('Home and End are the first and last node in reading order', () => {
  const x = [240, 0, 120, 0, 240];
  const y = [10, 50, 30, 20, 5];
  const nav = new NodeNavigator(x, y, { lines: 'columns' });
  assert.equal(nav.first(), 3); // leftmost column, topmost
  assert.equal(nav.last(), 0); // rightmost column, lowest
  const rows = new NodeNavigator([0, 100, 50], [0, 0, 80], { lines: 'rows' });
  assert.equal(rows.first(), 0);
  assert.equal(rows.move(0, 'ArrowRight'), 1);
  assert.equal(rows.move(0, 'ArrowDown'), 2);
  assert.equal(rows.last(), 2);
  assert.equal(nav.move(0, 'x'), null);
});

// A stand-in for a DOM element: what usesKey reads of one.
function element(tag, attrs = {}, inside = '') {
  return {
    nodeType: 1, tagName: tag, isContentEditable: false,
    getAttribute: (name) => attrs[name] ?? null,
    hasAttribute: (name) => name in attrs,
    closest: (selector) => (inside && selector.includes(inside) ? {} : null),
  };
}

test('a focused control keeps the keys it uses, and only those', async () => {
  const { usesKey, Shortcuts } = await import('../../static/js/shared/keyboard.js');
  const button = element('BUTTON');
  const radio = element('INPUT', { type: 'radio' });
  const range = element('INPUT', { type: 'range' });
  const text = element('INPUT', { type: 'text' });
  const select = element('SELECT');
  assert.ok(usesKey(button, ' ') && usesKey(button, 'Enter'));
  assert.ok(!usesKey(button, 'ArrowLeft') && !usesKey(button, 'k'));
  for (const key of ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', ' ']) assert.ok(usesKey(radio, key), key);
  assert.ok(!usesKey(radio, '?'));
  assert.ok(usesKey(range, 'ArrowRight') && usesKey(range, 'End') && !usesKey(range, ' '));
  for (const key of ['k', ' ', 'ArrowLeft', '?']) assert.ok(usesKey(text, key) && usesKey(select, key), key);
  assert.ok(usesKey(element('G', { role: 'tab' }), 'ArrowLeft'));
  assert.ok(!usesKey(element('DIV'), ' '));

  // The router: a shortcut fires where nothing uses its key, with its `when`.
  const listeners = [];
  const keys = new Shortcuts({ addEventListener: (type, f) => listeners.push(f) });
  const fired = [];
  let on = true;
  keys.add({ keys: [' ', 'k'], label: 'Play', run: () => fired.push('play'), when: () => on });
  const press = (key, target, extra = {}) => {
    let prevented = false;
    listeners[0]({ key, target, defaultPrevented: false, preventDefault: () => { prevented = true; }, ...extra });
    return prevented;
  };
  assert.ok(press(' ', element('DIV')));
  assert.ok(!press(' ', button));
  assert.ok(press('K', button)); // letters match either case
  assert.ok(!press('k', text));
  assert.ok(!press('k', element('DIV'), { ctrlKey: true }));
  assert.ok(!press('k', element('DIV'), { defaultPrevented: true }));
  on = false;
  assert.ok(!press('k', element('DIV')));
  assert.deepEqual(fired, ['play', 'play']);
  assert.deepEqual(keys.groups(), [{ group: 'Anywhere', items: [{ keys: ['Space', 'K'], label: 'Play' }] }]);
});

test('firstInReadingOrder is the navigator\'s first node, without building one', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const { x, y } = scatter(seed, 1 + (seed * 7) % 60);
    // Near-equal columns too: within the tolerance they are one line.
    if (seed % 3 === 0) x.forEach((v, k) => { x[k] = v + (k % 2) * 0.6; });
    for (const lines of ['columns', 'rows']) {
      assert.equal(firstInReadingOrder(x, y, { lines }), new NodeNavigator(x, y, { lines }).first(),
        `seed ${seed}, ${lines}`);
    }
  }
  assert.equal(firstInReadingOrder([], []), -1);
});
