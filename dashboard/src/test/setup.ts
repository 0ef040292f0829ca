import { afterEach } from 'vitest';
import { FakeWebSocket } from './fake-websocket.js';

// jsdom has no layout, so nothing to scroll; the router scrolls to the top on every navigation.
window.scrollTo = () => {};

// No real sockets in unit tests: the deployment page's log stream talks to a FakeWebSocket.
globalThis.WebSocket = FakeWebSocket as unknown as typeof WebSocket;
afterEach(() => {
  FakeWebSocket.all = [];
});
