import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // The dashboard's one browser script (plain JavaScript, served as is).
    files: ["src/web/assets/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: Object.fromEntries(["document", "window", "location", "EventSource", "fetch", "setTimeout", "setInterval", "DOMParser", "CSS", "URLSearchParams"].map((g) => [g, "readonly"])),
    },
  },
  {
    // Core code never names a component: it reaches them only through the registry.
    files: ["src/store/**", "src/generation/**", "src/activation/**", "src/services/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/components/*", "!**/components/component.js", "!**/components/registry.js"], message: "core code reaches components only through components/registry.ts" }] }],
    },
  },
);
