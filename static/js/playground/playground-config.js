// The Playground exercise as the page holds it (a plain object, the server's PlaygroundConfig
// in its wire form) and its URL form: every option checked and clamped here, so a hand-edited
// link gives a working exercise, never an error.
export const DATASETS = {
  classification: ['circle', 'xor', 'gaussian', 'spiral', 'moons'],
  regression: ['plane', 'multi-gaussian'],
};
export const DATASET_NAMES = {
  circle: 'Circle', xor: 'XOR', gaussian: 'Gaussian', spiral: 'Spiral', moons: 'Moons',
  plane: 'Plane', 'multi-gaussian': 'Multi-Gaussian',
};
export const FEATURES = ['x1', 'x2', 'x1^2', 'x2^2', 'x1x2', 'sin(x1)', 'sin(x2)'];
export const FEATURE_LABELS = {
  x1: 'x₁', x2: 'x₂', 'x1^2': 'x₁²', 'x2^2': 'x₂²', x1x2: 'x₁x₂', 'sin(x1)': 'sin x₁', 'sin(x2)': 'sin x₂',
};
export const ACTIVATIONS = ['tanh', 'relu', 'sigmoid', 'linear'];
export const REGULARIZATIONS = ['none', 'l1', 'l2'];
export const MAX_LAYERS = 6;
export const MAX_NEURONS = 8;

export const DEFAULTS = Object.freeze({
  dataset: 'circle', seed: 0, noise: 0, ratio: 0.5, features: ['x1', 'x2'], hidden: [4, 2],
  activation: 'tanh', regularization: 'none', reg_rate: 0, lr: 0.03, batch_size: 10, init_seed: 0,
});

const ALL_DATASETS = [...DATASETS.classification, ...DATASETS.regression];

export function problemOf(dataset) {
  return DATASETS.regression.includes(dataset) ? 'regression' : 'classification';
}

function number(text, fallback, lo, hi, integer = false) {
  const value = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(value)) return fallback;
  const clamped = Math.min(hi, Math.max(lo, value));
  return integer ? Math.round(clamped) : clamped;
}

/** The exercise a ?pg.* URL asks for ({key: string}); what is missing or bad is the default. */
export function configFromParams(params) {
  const d = DEFAULTS;
  const pick = (text, choices, fallback) => (choices.includes(text) ? text : fallback);
  const features = (params.features ?? d.features.join(',')).split(',').filter((f) => FEATURES.includes(f));
  const hidden = params.net === undefined ? d.hidden
    : params.net === '' ? [] : params.net.split(',').slice(0, MAX_LAYERS).map((w) => number(w, 1, 1, MAX_NEURONS, true));
  return {
    dataset: pick(params.data, ALL_DATASETS, d.dataset),
    seed: number(params.seed, d.seed, 0, 2 ** 32 - 1, true),
    noise: number(params.noise, d.noise * 100, 0, 50, true) / 100,
    ratio: number(params.ratio, d.ratio * 100, 10, 90, true) / 100,
    features: features.length ? FEATURES.filter((f) => features.includes(f)) : [...d.features],
    hidden,
    activation: pick(params.act, ACTIVATIONS, d.activation),
    regularization: pick(params.reg, REGULARIZATIONS, d.regularization),
    reg_rate: number(params.rate, d.reg_rate, 0, 10),
    lr: number(params.lr, d.lr, 0.00001, 10),
    batch_size: number(params.batch, d.batch_size, 1, 1000, true),
    init_seed: number(params.init, d.init_seed, 0, 2 ** 32 - 1, true),
  };
}

/** The URL form of `config`: only what differs from the default. */
export function paramsOf(config) {
  const d = DEFAULTS;
  const out = {};
  const put = (key, value, fallback) => { if (value !== fallback) out[key] = value; };
  put('data', config.dataset, d.dataset);
  put('seed', String(config.seed), String(d.seed));
  put('noise', String(Math.round(config.noise * 100)), '0');
  put('ratio', String(Math.round(config.ratio * 100)), '50');
  put('features', config.features.join(','), d.features.join(','));
  put('net', config.hidden.join(','), d.hidden.join(','));
  put('act', config.activation, d.activation);
  put('reg', config.regularization, d.regularization);
  put('rate', String(config.reg_rate), String(d.reg_rate));
  put('lr', String(config.lr), String(d.lr));
  put('batch', String(config.batch_size), String(d.batch_size));
  put('init', String(config.init_seed), String(d.init_seed));
  return out;
}

/** The network changes the + / − buttons make, within 0..6 layers of 1..8 neurons. */
export function addLayer(hidden) {
  return hidden.length < MAX_LAYERS ? [...hidden, 2] : hidden;
}
export function removeLayer(hidden) {
  return hidden.slice(0, -1);
}
export function changeNeurons(hidden, layer, by) {
  return hidden.map((w, k) => (k === layer ? Math.min(MAX_NEURONS, Math.max(1, w + by)) : w));
}
