// Type-aware linting: the rules that catch what tsc does not (floating
// promises, misused promises, unsafe any) on the engine, backends, tests and benchmarks.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "bench/tmp/", "**/*.mjs", "eslint.config.js", ".dependency-cruiser.cjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unsafe-function-type": "off",
    },
  },
  {
    // The report page's script runs in a browser; tsc -p lib/report/page checks its names against the DOM.
    files: ["lib/report/page/**"],
    rules: { "no-undef": "off" },
  },
  {
    files: ["test/**", "bench/**", "examples/**"],
    rules: { "@typescript-eslint/require-await": "off", "@typescript-eslint/unbound-method": "off" },
  },
);
