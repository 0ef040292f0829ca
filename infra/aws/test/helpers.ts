import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { defineInfra, type InfraStacks } from '../src/infra-app.js';
import { loadInfraSettings, parseInfraSettings, type InfraSettings } from '../src/settings.js';

export const INFRA_DIR = fileURLToPath(new URL('..', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

export function committedSettingsJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(`${INFRA_DIR}/settings.json`, 'utf8')) as Record<string, unknown>;
}

export function committedSettings(): InfraSettings {
  return loadInfraSettings(`${INFRA_DIR}/settings.json`);
}

/** The committed settings with some top-level keys replaced. */
export function settingsWith(patch: Record<string, unknown>): InfraSettings {
  return parseInfraSettings({ ...committedSettingsJson(), ...patch });
}

/**
 * The stacks, built as `cdk synth` builds them: with the committed cdk.context.json, so the VPC
 * sees the same availability zones here as in the real synth.
 */
export function buildInfra(settings: InfraSettings = committedSettings()): InfraStacks {
  const context = JSON.parse(readFileSync(`${INFRA_DIR}/cdk.context.json`, 'utf8')) as Record<
    string,
    unknown
  >;
  return defineInfra(new App({ context }), settings);
}

/** What buildInfra returns. */
export type InfraStacksForTest = InfraStacks;

export type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every statement of every AWS::IAM::Policy in the template. */
export function policyStatements(template: Template): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
    (p) => (p.Properties!.PolicyDocument as { Statement: Statement[] }).Statement,
  );
}
