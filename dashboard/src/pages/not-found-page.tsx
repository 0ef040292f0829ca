import { Link } from '@tanstack/react-router';
import { useDocumentTitle } from '../lib/use-document-title.js';

export function NotFoundPage() {
  useDocumentTitle('Not found');
  return (
    <>
      <h1 tabIndex={-1}>Page not found</h1>
      <p>
        There is nothing at this address. <Link to="/">Go to your projects</Link>.
      </p>
    </>
  );
}
