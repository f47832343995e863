// Builds the browser app (src/app) into dist/app, which the server serves. Preact's JSX through Vite's own
// transformer: no plugin needed.
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// The entry (boot.ts) opens the stream and then imports the app (main.tsx): the page preloads the app's chunk so that
// it downloads beside the entry instead of after it.
const preloadApp: Plugin = {
  name: "capstan-preload-app",
  apply: "build",
  transformIndexHtml: {
    order: "post",
    handler(_html, ctx) {
      const app = Object.values(ctx.bundle ?? {}).find(
        (c) => c.type === "chunk" && c.isDynamicEntry && c.facadeModuleId?.endsWith("/main.tsx"),
      );
      return app
        ? [
            {
              tag: "link",
              attrs: { rel: "modulepreload", crossorigin: true, href: `/${app.fileName}` },
              injectTo: "head",
            },
          ]
        : [];
    },
  },
};

export default defineConfig({
  root: fileURLToPath(new URL("./src/app", import.meta.url)),
  base: "/",
  plugins: [preloadApp],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: fileURLToPath(new URL("./dist/app", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
});
