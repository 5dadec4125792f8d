// `npm run build`: bundles the page's ES modules (static/js/) with d3, socket.io-client and
// dagre from node_modules into static/dist/ — nothing is fetched from a CDN at run time.
import { build } from 'esbuild';

await build({
  // Both land at the top of static/dist/: graph/graph-layout.js starts the worker by
  // `new URL('./layout-worker.js', import.meta.url)`, which in the bundle is main.js's folder.
  entryPoints: [
    { in: 'static/js/main.js', out: 'main' },
    { in: 'static/js/graph/layout-worker.js', out: 'layout-worker' },
  ],
  outdir: 'static/dist',
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
