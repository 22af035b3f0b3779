// Lint for the console's ES modules (src/openlfr/web/static). Run by scripts/check.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: { ecmaVersion: 2023, sourceType: "module", globals: { ...globals.browser } },
    rules: {
      "no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrors: "none" }],
      eqeqeq: ["error", "always"],
      "no-implicit-globals": "error",
      "no-restricted-syntax": [
        "error",
        { selector: "MemberExpression[property.name=/^(innerHTML|outerHTML)$/]", message: "put data into the page as text" },
        { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: "put data into the page as text" },
      ],
      "no-eval": "error",
      "no-new-func": "error",
      "prefer-const": "error",
    },
  },
];
