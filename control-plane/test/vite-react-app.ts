/** A Vite + React app with real dependencies from the registry, as `npm create vite` makes one. */
export const VITE_REACT_APP: Record<string, string> = {
  'package.json': JSON.stringify(
    {
      name: 'vite-react-app',
      private: true,
      type: 'module',
      scripts: { build: 'vite build' },
      dependencies: { react: '^19.1.0', 'react-dom': '^19.1.0' },
      devDependencies: { vite: '^8.0.0', '@vitejs/plugin-react': '^6.0.0' },
    },
    null,
    2,
  ),
  'vite.config.js': "import react from '@vitejs/plugin-react';\nexport default { plugins: [react()] };\n",
  'index.html':
    '<!doctype html><html><head><title>Vite React on DeploySphere</title></head><body><div id="root"></div><script type="module" src="/src/main.jsx"></script></body></html>',
  'src/main.jsx':
    "import { createRoot } from 'react-dom/client';\nfunction App() { return <h1>Hello from React</h1>; }\ncreateRoot(document.getElementById('root')).render(<App />);\n",
};
