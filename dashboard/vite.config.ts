/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server the dev server proxies API calls to (`npm run dev`).
const apiTarget = process.env.AGENTIDP_DEV_API ?? 'http://127.0.0.1:8080';

// Same policy as dashboard/embed.go, so `vite preview` shows CSP problems too.
const csp =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; font-src 'self'; " +
  "connect-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const proxy = {
  '/api': { target: apiTarget },
  '/.well-known': { target: apiTarget },
  '/healthz': { target: apiTarget },
  '/readyz': { target: apiTarget },
};

export default defineConfig({
  base: '/dashboard/',
  plugins: [react()],
  server: {
    port: 5173,
    proxy,
  },
  preview: {
    port: 4173,
    proxy,
    headers: { 'Content-Security-Policy': csp },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // Deterministic output: content-hashed names only, no timestamps.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 700,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
        // Long-lived vendor chunks (cached across app releases); recharts stays in the lazy chart chunk.
        codeSplitting: {
          groups: [
            {
              name: 'react',
              test: /node_modules[\\/](react|react-dom|scheduler|react-router|cookie|set-cookie-parser)[\\/]/,
              priority: 20,
            },
            {
              name: 'mantine',
              test: /node_modules[\\/](@mantine[\\/](core|hooks|notifications|modals|form|store)|@floating-ui|react-number-format|react-remove-scroll[^\\/]*|react-textarea-autosize|react-transition-group|use-callback-ref|use-sidecar|use-isomorphic-layout-effect|use-composed-ref|use-latest|clsx|tslib|get-nonce|react-style-singleton|detect-node-es|aria-hidden|dom-helpers|klona|tabbable)[\\/]/,
              priority: 10,
            },
          ],
        },
      },
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    testTimeout: 30000,
    pool: 'threads',
    maxWorkers: 2,
  },
});
