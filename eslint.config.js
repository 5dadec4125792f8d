// `npm run lint:js`: ESLint's recommended rules over the page's modules (browser), the node
// tests and the build scripts (node).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['static/dist/', 'node_modules/', '.venv/'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
  },
  { files: ['static/js/**/*.js'], languageOptions: { globals: globals.browser } },
  { files: ['tests/js/**/*.js', 'scripts/**/*.mjs', 'scripts/**/*.js', 'eslint.config.js'], languageOptions: { globals: globals.node } },
];
