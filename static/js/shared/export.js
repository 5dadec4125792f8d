// Export the current view (or the training chart) as SVG or PNG (a download), with the page's
// styles inlined so the file looks like the screen. A file knows no CSS custom properties and
// no theme: every var(--…) is written out as its value on the page now (colours resolved for
// the theme shown, the font families as lists), and the root carries the font family itself,
// so a viewer never falls back to its default serif.
import { BACKGROUND } from './colors.js';

export function exportSvg(view, filename = 'backprop-live.svg') {
  download(new Blob([svgString(view)], { type: 'image/svg+xml' }), filename);
}

export async function exportPng(view, filename = 'backprop-live.png') {
  let canvas;
  if (view.kind === 'canvas') {
    canvas = document.createElement('canvas');
    canvas.width = view.top.width;
    canvas.height = view.top.height;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(view.base, 0, 0);
    ctx.drawImage(view.nodes, 0, 0);
    ctx.drawImage(view.top, 0, 0);
  } else if (view.element instanceof HTMLCanvasElement) {
    canvas = onBackground(view.element); // a block's weight matrix: a picture already
  } else {
    canvas = await rasterise(svgString(view), view.element);
  }
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  download(blob, filename);
}

/** A copy of `picture` (a canvas) drawn over the page's background. */
function onBackground(picture) {
  const canvas = document.createElement('canvas');
  canvas.width = picture.width;
  canvas.height = picture.height;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.drawImage(picture, 0, 0);
  return canvas;
}

/** A canvas as an SVG document holding its picture. */
function canvasSvg(picture) {
  const { width, height } = picture;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" `
    + `viewBox="0 0 ${width} ${height}"><image width="${width}" height="${height}" `
    + `href="${onBackground(picture).toDataURL('image/png')}"/></svg>`;
}

/** The view as a standalone SVG document. */
export function svgString(view) {
  if (typeof view.toSVG === 'function') return view.toSVG(); // a view that composes its own
  const source = view.element;
  if (source instanceof HTMLCanvasElement) return canvasSvg(source);
  const clone = source.cloneNode(true);
  // A graph draws into one <g> (panned and zoomed); an image grid draws straight into its <svg>.
  const layer = source.querySelector(':scope > g');
  const box = layer ? layer.getBBox()
    : { x: 0, y: 0, width: source.width.baseVal.value, height: source.height.baseVal.value };
  const pad = 20;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('viewBox', `${box.x - pad} ${box.y - pad} ${box.width + 2 * pad} ${box.height + 2 * pad}`);
  clone.setAttribute('width', String(Math.ceil(box.width + 2 * pad)));
  clone.setAttribute('height', String(Math.ceil(box.height + 2 * pad)));
  if (layer) clone.querySelector(':scope > g').removeAttribute('transform');
  clone.setAttribute('font-family', resolveVars('var(--font)', source));
  // Projector mode's rules are written ":root.projector …": in the file, the root is the <svg>.
  if (document.documentElement.classList.contains('projector')) clone.classList.add('projector');
  const style = document.createElementNS('http://www.w3.org/2000/svg', 'style');
  style.textContent = resolveVars(cssText(), source);
  clone.insertBefore(style, clone.firstChild);
  const background = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  background.setAttribute('x', String(box.x - pad));
  background.setAttribute('y', String(box.y - pad));
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', BACKGROUND);
  clone.insertBefore(background, style.nextSibling);
  return new XMLSerializer().serializeToString(clone);
}

function cssText() {
  const rules = [];
  for (const sheet of document.styleSheets) {
    try {
      for (const rule of sheet.cssRules) {
        if (/\.(node|edge|term|pulse|block|link|arrowhead|graph-svg|chart|legend|pixel|image-grid|field-outline|field-grid-caption)\b/.test(rule.cssText)) rules.push(rule.cssText);
      }
    } catch {
      // a sheet we may not read: skip
    }
  }
  return rules.join('\n');
}

/** `css` with each var(--name) or var(--name, fallback) replaced by its value at `element`:
 * colours through a probe (so light-dark() comes out as the theme's rgb()), others as written. */
export function resolveVars(css, element = document.body) {
  const host = element && element.isConnected ? element.parentNode || document.body : document.body;
  const probe = document.createElement('span');
  probe.style.display = 'none';
  host.append(probe);
  const computed = getComputedStyle(probe);
  const cache = new Map();
  const value = (name, fallback) => {
    if (!cache.has(name)) {
      const raw = computed.getPropertyValue(name).trim();
      let resolved = raw;
      if (raw && /light-dark\(|^#|^rgb|^hsl|^color\(/.test(raw)) {
        probe.style.color = `var(${name})`;
        resolved = getComputedStyle(probe).color;
      }
      cache.set(name, resolved);
    }
    return cache.get(name) || fallback;
  };
  // Innermost first, so that a var() in a fallback or a value is resolved too.
  const VAR = /var\(\s*(--[\w-]+)\s*(?:,\s*([^()]*(?:\([^()]*\))?[^()]*))?\)/g;
  let out = css;
  for (let pass = 0; pass < 4 && out.includes('var('); pass++) {
    out = out.replace(VAR, (match, name, fallback) => value(name, (fallback || '').trim()) || 'initial');
  }
  probe.remove();
  return out;
}

function rasterise(svg, element) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
    image.onload = () => {
      const scale = Math.min(2, 8000 / Math.max(image.width, image.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(image.width * scale));
      canvas.height = Math.max(1, Math.round(image.height * scale));
      const ctx = canvas.getContext('2d');
      ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
      URL.revokeObjectURL(url);
      resolve(canvas);
    };
    image.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error('could not draw the SVG'));
    };
    image.src = url;
    void element;
  });
}

function download(blob, filename) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}
