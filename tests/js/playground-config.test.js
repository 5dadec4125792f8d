// The Playground's config model: URL form round-trips, bad values are clamped, the builder's
// limits hold (0..6 layers of 1..8 neurons).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULTS, addLayer, changeNeurons, configFromParams, paramsOf, removeLayer,
} from '../../static/js/playground/playground-config.js';

test('the default exercise has an empty URL form and comes back from it', () => {
  assert.deepEqual(paramsOf(configFromParams({})), {});
  assert.deepEqual(configFromParams({}), { ...DEFAULTS, features: [...DEFAULTS.features], hidden: [...DEFAULTS.hidden] });
});

test('a changed exercise round-trips through its URL form', () => {
  const config = { ...configFromParams({}), dataset: 'spiral', noise: 0.25, ratio: 0.7, features: ['x1', 'sin(x2)'],
    hidden: [8, 8, 8], activation: 'relu', regularization: 'l2', reg_rate: 0.003, lr: 0.1, batch_size: 30, seed: 9, init_seed: 4 };
  const params = paramsOf(config);
  assert.equal(params.net, '8,8,8');
  assert.equal(params.noise, '25');
  assert.deepEqual(configFromParams(params), config);
});

test('bad URL values become defaults or are clamped into range', () => {
  const config = configFromParams({ data: 'rings', noise: '90', ratio: 'x', net: '9,0,3,3,3,3,3,3', act: 'gelu', features: 'cos' });
  assert.equal(config.dataset, 'circle');
  assert.equal(config.noise, 0.5);
  assert.equal(config.ratio, 0.5);
  assert.deepEqual(config.hidden, [8, 1, 3, 3, 3, 3]);
  assert.equal(config.activation, 'tanh');
  assert.deepEqual(config.features, ['x1', 'x2']);
  assert.deepEqual(configFromParams({ net: '' }).hidden, []);
});

test('the network builder stays within 0..6 layers of 1..8 neurons', () => {
  assert.deepEqual(addLayer([4, 2]), [4, 2, 2]);
  assert.deepEqual(addLayer([1, 1, 1, 1, 1, 1]), [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(removeLayer([]), []);
  assert.deepEqual(changeNeurons([8, 1], 0, 1), [8, 1]);
  assert.deepEqual(changeNeurons([8, 1], 1, -1), [8, 1]);
  assert.deepEqual(changeNeurons([4, 2], 1, 1), [4, 3]);
});
