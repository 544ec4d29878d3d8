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
    // Core code never names a component: it reaches them only through the registry.
    files: ["src/store/**", "src/generation/**", "src/activation/**", "src/services/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/components/*", "!**/components/component.js", "!**/components/registry.js"], message: "core code reaches components only through components/registry.ts" }] }],
    },
  },
);
