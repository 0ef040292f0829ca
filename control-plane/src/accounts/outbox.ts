import type { FastifyBaseLogger } from 'fastify';

/** A message for a person: a password reset link today. */
export interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
}

/** Where the platform sends messages to people. */
export interface Outbox {
  send(message: OutboxMessage): Promise<void>;
}

/**
 * The only outbox so far: there is no mail server here, so the message goes to the control
 * plane's log, where the operator of a local platform reads it and passes the link on. It holds
 * a one-time secret, which is why only this kind of entry carries one (docs/accounts.md).
 */
export class LogOutbox implements Outbox {
  constructor(private readonly log: FastifyBaseLogger) {}

  async send(message: OutboxMessage): Promise<void> {
    this.log.warn(
      { outbox: message },
      `message for ${message.to}: ${message.subject} (no mail server: pass it on)`,
    );
  }
}

/** Keeps messages in memory: for tests, which read the link the way an operator would. */
export class MemoryOutbox implements Outbox {
  readonly messages: OutboxMessage[] = [];

  async send(message: OutboxMessage): Promise<void> {
    this.messages.push(message);
  }
}
