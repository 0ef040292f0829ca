import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from './app.js';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

describe('sign in', () => {
  it('asks for the API token in a labelled field and enables Sign in only once one is typed', () => {
    render(<App />);
    const button = screen.getByRole('button', { name: 'Sign in' });
    expect(button).toHaveProperty('disabled', true);
    fireEvent.change(screen.getByLabelText('API token'), { target: { value: 'dsk_token' } });
    expect(button).toHaveProperty('disabled', false);
  });
});
