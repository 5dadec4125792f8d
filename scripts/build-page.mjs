// `npm run build`: bundles the page's ES modules (static/js/) with d3, socket.io-client and
// dagre from node_modules into static/dist/ — nothing is fetched from a CDN at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['static/js/main.js', 'static/js/layout-worker.js'],
  outdir: 'static/dist',
  bundle: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
