import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The dashboard: built into web/dist, which `hetu start` serves on the API's port. In development
 * (`npm run dev -w web`) the GraphQL endpoint is proxied to a running `hetu start` on 4380.
 */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 600, manifest: true },
  server: {
    proxy: { '/graphql': { target: 'http://127.0.0.1:4380', ws: true } },
  },
});
