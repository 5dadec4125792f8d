// `npm run build`: bundles the page's ES modules (static/js/) with d3, socket.io-client and
// dagre from node_modules into static/dist/ — nothing is fetched from a CDN at run time.
// The notebook widget (static/js/notebook/widget.js, loaded by engine/notebook/) is bundled
// beside them, with its stylesheet: the page's app.css scoped to the widget, then widget.css.
import { readFile, writeFile } from 'node:fs/promises';
import { build, transform } from 'esbuild';

const target = ['chrome100', 'firefox100', 'safari15'];

await build({
  // All land at the top of static/dist/: graph/graph-layout.js starts the worker by
  // `new URL('./layout-worker.js', import.meta.url)`, which in the bundle is main.js's folder.
  entryPoints: [
    { in: 'static/js/main.js', out: 'main' },
    { in: 'static/js/graph/layout-worker.js', out: 'layout-worker' },
    { in: 'static/js/notebook/widget.js', out: 'widget' },
  ],
  outdir: 'static/dist',
  bundle: true,
  format: 'esm',
  target,
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});

// The page's rules apply inside the widget only: nested under .bpl-widget (its :root variables
// on the widget itself), lowered to plain selectors by esbuild.
const page = await readFile('static/css/app.css', 'utf8');
const widget = await readFile('static/css/widget.css', 'utf8');
const scoped = `.bpl-widget {\n${page.replaceAll(':root', '&')}\n}\n${widget}`;
const { code } = await transform(scoped, { loader: 'css', target, minify: true });
await writeFile('static/dist/widget.css', code);
