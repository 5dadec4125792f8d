// One digit through the network: its feature map at every image-shaped layer (Conv1, ReLU1,
// Conv2, Add2 with its two operands side by side — the skip path, which is the image, and the
// residual Conv2 adds to it — and ReLU2), and under each the loss's gradient with respect to it
// (the saliency: where changing the map would change the loss most). Then the class
// probabilities. Each map has its own ±max scale (printed under it); both use the linear
// diverging scale, since a symlog one turns a saliency map's many tiny gradients into noise.
import * as d3 from 'd3';
import { short } from '../shared/numbers.js';
import { maxAbs, pixelMap } from './pixel-map.js';

const SHOWN = ['image', 'Conv1', 'ReLU1', 'Conv2', 'skip', 'residual', 'Add2', 'ReLU2'];
const TITLES = { image: 'Image', skip: 'Skip', residual: 'Residual' };
const percent = d3.format('.1%');

export class FeatureMaps {
  constructor(container) {
    this.container = container;
  }

  /** `maps`: a PicturesClient.digitMaps answer; `title`: which digit it is. */
  show(maps, title) {
    if (!maps) {
      this.container.replaceChildren();
      return;
    }
    const area = maps.size * maps.size;
    const grid = document.createElement('div');
    grid.className = 'map-grid';
    for (const name of SHOWN) {
      const k = maps.layers.indexOf(name);
      const values = maps.values.subarray(k * area, (k + 1) * area);
      const grads = maps.grads.subarray(k * area, (k + 1) * area);
      const figure = document.createElement('figure');
      figure.className = 'map';
      figure.dataset.layer = name;
      const caption = document.createElement('figcaption');
      caption.textContent = TITLES[name] || name;
      const valueMap = pixelMap(values, maps.size, { kind: name === 'image' || name === 'skip' ? 'ink' : 'diverging', label: `${TITLES[name] || name} values` });
      valueMap.dataset.kind = 'value';
      const gradMap = pixelMap(grads, maps.size, { kind: 'diverging', label: `gradient of the loss at ${TITLES[name] || name}` });
      gradMap.dataset.kind = 'grad';
      figure.title = `${TITLES[name] || name}: values within ±${short(maxAbs(values))}, gradients within ±${short(maxAbs(grads))}`;
      figure.append(caption, valueMap, range(values), gradMap, range(grads));
      grid.append(figure);
    }
    const head = document.createElement('p');
    head.className = 'maps-title';
    head.textContent = `${title}: predicted ${maps.predicted} (${percent(maps.probabilities[maps.predicted])}); `
      + `loss ${short(maps.loss)} against ${maps.label >= 0 ? 'its label' : 'the class it is meant to be'}, ${maps.target}. `
      + 'Add2 = Skip (the image) + Residual (Conv2). Top: values; bottom: the loss’s gradient (saliency). '
    + 'Blue below 0, red above.';
    this.container.replaceChildren(head, grid, probabilityBars(maps));
    this.container.dataset.loss = String(maps.loss);
  }
}

/** The ±max a map's colours span, under it. */
function range(values) {
  const text = document.createElement('span');
  text.className = 'map-range';
  text.textContent = `±${short(maxAbs(values))}`;
  return text;
}

function probabilityBars(maps) {
  const list = document.createElement('ol');
  list.className = 'probabilities';
  list.setAttribute('aria-label', 'Class probabilities');
  list.start = 0;
  maps.probabilities.forEach((p, c) => {
    const item = document.createElement('li');
    item.dataset.class = String(c);
    item.dataset.probability = String(p);
    item.classList.toggle('top', c === maps.predicted);
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${(100 * p).toFixed(1)}%`;
    const text = document.createElement('span');
    text.className = 'bar-text';
    text.textContent = `${c}: ${percent(p)}`;
    item.append(text, bar);
    list.append(item);
  });
  return list;
}
