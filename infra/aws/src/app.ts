/**
 * The CDK app (cdk.json runs it): `npm run infra:synth`, or `npx cdk deploy <stack>` in infra/aws.
 * DEPLOYSPHERE_INFRA_SETTINGS names another settings file than infra/aws/settings.json.
 */
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { defineInfra } from './infra-app.js';
import { InfraSettingsError, loadInfraSettings } from './settings.js';

const path =
  process.env.DEPLOYSPHERE_INFRA_SETTINGS || fileURLToPath(new URL('../settings.json', import.meta.url));
try {
  const app = new App();
  defineInfra(app, loadInfraSettings(path));
  app.synth();
} catch (err) {
  if (!(err instanceof InfraSettingsError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 2;
}
