import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dokku and Dokploy both shipped critical CVEs from shell strings built out of branch names and
// URLs. Child processes here are started with argument arrays only; these rules keep it that way.
const noShellStrings = {
  'no-restricted-imports': [
    'error',
    {
      paths: [
        {
          name: 'child_process',
          importNames: ['exec', 'execSync'],
          message: 'Use execFile or spawn with an argument array: never a shell string.',
        },
        {
          name: 'node:child_process',
          importNames: ['exec', 'execSync'],
          message: 'Use execFile or spawn with an argument array: never a shell string.',
        },
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    {
      selector: "Property[key.name='shell'][value.value=true]",
      message: 'shell: true turns arguments into a shell string. Pass an argument array instead.',
    },
    {
      selector:
        'CallExpression[callee.property.name=/^(exec|execSync)$/][callee.object.name=/child_?process/i]',
      message: 'Use execFile or spawn with an argument array: never a shell string.',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.data/**',
      'prisma/generated/**',
      '**/.wrangler/**',
      'test-results/**',
      'bench/out/**',
      'infra/aws/cdk.out/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      ...noShellStrings,
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
