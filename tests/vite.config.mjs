import { defineConfig } from 'vite';

// The app imports '@oneshare/sdk' from node_modules, installed from the packed
// tarball (cargo xtask runs `npm pack` and installs it before `vite build`).
export default defineConfig({
  build: { target: 'es2022', outDir: 'dist', emptyOutDir: true },
  optimizeDeps: { exclude: ['@oneshare/sdk'] },
});
