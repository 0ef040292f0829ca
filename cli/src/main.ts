import { Command, Option } from 'commander';
import {
  MeViewSchema,
  CLI_EXIT_CODES,
  DeploymentViewSchema,
  ProjectViewSchema,
  RegionSchema,
  type CliWhoami,
  type DeploymentView,
} from '@deploysphere/contracts';
import { z } from 'zod';
import { ApiClient } from './api-client.js';
import { configPath, removeConfig, resolveAuth, writeConfig, type Env } from './config.js';
import { deployPrebuilt, DeployFailed, formatBytes, printDeployment } from './deploy.js';
import { asCliError, CliError } from './errors.js';
import { readLink } from './link.js';
import { followLogs, printLogs } from './logs.js';
import { deploySource } from './deploy-source.js';
import { Output } from './output.js';
import { ask, readSecret } from './prompt.js';

declare const DEPLOYSPHERE_CLI_VERSION: string;
const VERSION = typeof DEPLOYSPHERE_CLI_VERSION === 'string' ? DEPLOYSPHERE_CLI_VERSION : '0.0.0-dev';

/** Runs one command line; resolves with the exit code (the process's own is set by the caller). */
export async function run(argv: string[], env: Env = process.env): Promise<number> {
  const globals = argv.slice(2);
  const out = new Output({ json: globals.includes('--json'), debug: globals.includes('--debug') });
  const client = async () => {
    const auth = await resolveAuth(env);
    return new ApiClient(auth.url, auth.token, (l) => out.debug(l));
  };
  /** The project: --project, else the folder's link. */
  const projectOf = async (given: string | undefined, dir = '.') => {
    const slug = given ?? (await readLink(dir));
    if (!slug) throw CliError.usage('Which project? Pass --project <name>, or run this in a deployed folder');
    return slug;
  };

  const program = new Command('deploysphere')
    .description('Deploy folders to DeploySphere, watch them, promote and roll back.')
    .version(VERSION)
    .option('--json', 'print exactly one JSON document on stdout (progress goes to stderr)')
    .option('--debug', 'show request and error details')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });

  program
    .command('login')
    .description('Store the control plane URL and an API token (read from stdin or a prompt, never argv)')
    .option('--url <url>', 'the control plane URL, e.g. https://deploy.example.com')
    .action(async (opts: { url?: string }) => {
      const url = (opts.url || env.DEPLOYSPHERE_URL || (await ask('Control plane URL: '))).replace(
        /\/+$/,
        '',
      );
      if (!/^https?:\/\/\S+$/.test(url))
        throw CliError.usage(`--url: expected an http:// or https:// URL, got ${url}`);
      const token = env.DEPLOYSPHERE_TOKEN || (await readSecret('API token: '));
      if (!token) throw CliError.usage('No token given');
      await new ApiClient(url, token, (l) => out.debug(l)).get('/regions', z.array(RegionSchema));
      const path = await writeConfig(env, { v: 1, url, token });
      out.result({ url, config: path }, () => out.line(`Logged in to ${url} (stored in ${path})`));
    });

  program
    .command('logout')
    .description('Forget the stored token')
    .action(async () => {
      const removed = await removeConfig(env);
      out.result({ removed, config: configPath(env) }, () =>
        out.line(removed ? `Logged out (removed ${configPath(env)})` : 'Not logged in'),
      );
    });

  program
    .command('whoami')
    .description('Check the token and show where it points')
    .action(async () => {
      const auth = await resolveAuth(env);
      const api = await client();
      const [regions, account] = await Promise.all([
        api.get('/regions', z.array(RegionSchema)),
        api.get('/me', MeViewSchema),
      ]);
      const who: CliWhoami = {
        url: auth.url,
        tokenSource: auth.tokenSource,
        regions: regions.map((r) => r.id),
        account,
      };
      const as =
        account.kind === 'root' ? 'the admin token' : `${account.user?.email ?? 'unknown'} (${account.kind})`;
      const teams = account.teams.map((t) => `${t.slug} (${t.role})`).join(', ');
      out.result(who, () =>
        out.line(
          `${as} at ${auth.url}; teams ${teams || 'none'}; token from ${auth.tokenSource === 'env' ? 'DEPLOYSPHERE_TOKEN' : configPath(env)}; regions ${who.regions.join(', ')}`,
        ),
      );
    });

  program
    .command('deploy')
    .description(
      'Deploy a folder: its source, built in the sandbox; --prebuilt uploads it as it is (only the files the platform lacks)',
    )
    .argument('[dir]', 'the folder', '.')
    .option(
      '--prebuilt',
      'the folder is the site as built (without it the source is uploaded, honouring .gitignore and .deploysphereignore, and built)',
    )
    .option('--prod', 'make it production (default: a preview with its own URL)')
    .option('--project <name>', 'the project (a new name creates it); the folder remembers it')
    .addOption(
      new Option('--region <id>', 'a region, primary first (repeatable)').argParser(
        (v: string, prev: string[] = []) => [...prev, v],
      ),
    )
    .addOption(
      new Option('--concurrency <n>', 'uploads in flight per region').default(32).argParser((v) => Number(v)),
    )
    .action(
      async (
        dir: string,
        opts: {
          prebuilt?: boolean;
          prod?: boolean;
          project?: string;
          region?: string[];
          concurrency: number;
        },
      ) => {
        if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1 || opts.concurrency > 256)
          throw CliError.usage('--concurrency: expected a whole number from 1 to 256');
        const api = await client();
        try {
          const target = { dir, prod: opts.prod ?? false, project: opts.project, regions: opts.region };
          const result = opts.prebuilt
            ? await deployPrebuilt(api, out, { ...target, concurrency: opts.concurrency })
            : await deploySource(api, out, target);
          out.result(result, () => printDeployment(out, result.deployment));
        } catch (err) {
          // A failed deployment still prints its result with --json (one document), then exits non-zero.
          if (err instanceof DeployFailed && out.json) {
            out.result(err.result, () => undefined);
            throw Object.assign(err, { printed: true });
          }
          throw err;
        }
      },
    );

  program
    .command('ls')
    .description("A project's deployments, newest first")
    .option('--project <name>', "the project (default: the folder's link)")
    .option('--limit <n>', 'how many', '20')
    .action(async (opts: { project?: string; limit: string }) => {
      const slug = await projectOf(opts.project);
      const list = await (
        await client()
      ).get(
        `/projects/${encodeURIComponent(slug)}/deployments?limit=${encodeURIComponent(opts.limit)}`,
        z.array(DeploymentViewSchema),
      );
      out.result(list, () => {
        for (const d of list)
          out.line(
            `${d.id}  ${d.status.padEnd(9)} ${d.target.padEnd(10)} ${(d.source ?? 'git').padEnd(3)} ${d.isProduction ? 'current ' : '        '} ${d.createdAt}`,
          );
      });
    });

  program
    .command('inspect')
    .description('One deployment')
    .argument('<deployment>', 'its id')
    .action(async (id: string) => {
      const d = await (await client()).get(`/deployments/${encodeURIComponent(id)}`, DeploymentViewSchema);
      out.result(d, () => describe(out, d));
    });

  program
    .command('promote')
    .description('Make a ready deployment production (instantly, no rebuild)')
    .argument('<deployment>', 'its id')
    .action(async (id: string) => {
      const api = await client();
      const d = await api.get(`/deployments/${encodeURIComponent(id)}`, DeploymentViewSchema);
      const promoted = await api.post(`/projects/${d.projectSlug}/promote`, DeploymentViewSchema, {
        deploymentId: id,
      });
      out.result(promoted, () => out.line(`${promoted.id} is production: ${promoted.url}`));
    });

  program
    .command('rollback')
    .description('Make the previous ready production deployment production again')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (opts: { project?: string }) => {
      const slug = await projectOf(opts.project);
      const api = await client();
      const project = await api.get(`/projects/${slug}`, ProjectViewSchema);
      const history = await api.get(
        `/projects/${slug}/deployments?target=production&limit=100`,
        z.array(DeploymentViewSchema),
      );
      const current = history.findIndex((d) => d.id === project.productionDeploymentId);
      const previous = history.slice(current + 1).find((d) => d.status === 'ready');
      if (current < 0 || !previous) {
        throw new CliError(
          'nothing_to_roll_back',
          `${slug} has no earlier ready production deployment`,
          CLI_EXIT_CODES.notFound,
        );
      }
      const promoted = await api.post(`/projects/${slug}/promote`, DeploymentViewSchema, {
        deploymentId: previous.id,
      });
      out.result(promoted, () => out.line(`Rolled back ${slug} to ${promoted.id}: ${promoted.url}`));
    });

  program
    .command('cancel')
    .description('Cancel a queued or building deployment')
    .argument('<deployment>', 'its id')
    .action(async (id: string) => {
      const d = await (
        await client()
      ).post(`/deployments/${encodeURIComponent(id)}/cancel`, DeploymentViewSchema);
      out.result(d, () => out.line(`${d.id} is ${d.status}`));
    });

  program
    .command('projects')
    .description('Every project')
    .action(async () => {
      const list = await (await client()).get('/projects', z.array(ProjectViewSchema));
      out.result(list, () => {
        for (const p of list)
          out.line(`${p.slug.padEnd(24)} ${p.url}  ${p.repoUrl || '(CLI deployments only)'}`);
      });
    });

  program
    .command('logs')
    .description("A deployment's build log; --follow streams it until the deployment is final")
    .argument('<deployment>', 'its id')
    .option('--follow', 'stream new lines until the deployment is final')
    .action(async (id: string, opts: { follow?: boolean }) => {
      const api = await client();
      if (opts.follow) {
        const { status, lines } = await followLogs(api, out, id);
        out.result({ deploymentId: id, status, lines }, () => undefined);
        // skipped (watch paths, a skip marker, the ignored build step) built nothing on purpose: not a failure.
        if (status !== 'ready' && status !== 'skipped')
          throw new CliError(
            'deploy_failed',
            `Deployment ${id} ended ${status}`,
            CLI_EXIT_CODES.deployFailed,
          );
      } else {
        const lines = await printLogs(api, out, id);
        out.result({ deploymentId: id, lines }, () => undefined);
      }
    });

  const envCmd = program.command('env').description("A project's build-time variables");
  envCmd
    .command('ls')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (opts: { project?: string }) => {
      const p = await (await client()).get(`/projects/${await projectOf(opts.project)}`, ProjectViewSchema);
      out.result({ project: p.slug, keys: p.envKeys }, () => p.envKeys.forEach((k) => out.line(k)));
    });
  envCmd
    .command('add')
    .description('Set a variable; the value is read from stdin or a prompt, never from argv')
    .argument('<key>', 'its name')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (key: string, opts: { project?: string }) => {
      const slug = await projectOf(opts.project);
      const value = await readSecret(`Value of ${key}: `);
      const p = await (
        await client()
      ).request('PATCH', `/projects/${slug}`, ProjectViewSchema, { env: { [key]: value } });
      out.result({ project: p.slug, keys: p.envKeys }, () =>
        out.line(`Set ${key} on ${slug} (used from the next build)`),
      );
    });
  envCmd
    .command('rm')
    .argument('<key>', 'its name')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (key: string, opts: { project?: string }) => {
      const slug = await projectOf(opts.project);
      const p = await (
        await client()
      ).request('PATCH', `/projects/${slug}`, ProjectViewSchema, { env: { [key]: null } });
      out.result({ project: p.slug, keys: p.envKeys }, () => out.line(`Removed ${key} from ${slug}`));
    });

  const domains = program.command('domains').description("A project's custom domains");
  domains
    .command('ls')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (opts: { project?: string }) => {
      const p = await (await client()).get(`/projects/${await projectOf(opts.project)}`, ProjectViewSchema);
      out.result({ project: p.slug, domains: p.domains }, () => p.domains.forEach((d) => out.line(d)));
    });
  domains
    .command('add')
    .argument('<hostname>')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (hostname: string, opts: { project?: string }) => {
      const slug = await projectOf(opts.project);
      const p = await (await client()).post(`/projects/${slug}/domains`, ProjectViewSchema, { hostname });
      out.result({ project: p.slug, domains: p.domains }, () =>
        out.line(`${hostname} now serves ${slug}'s production`),
      );
    });
  domains
    .command('rm')
    .argument('<hostname>')
    .option('--project <name>', "the project (default: the folder's link)")
    .action(async (hostname: string, opts: { project?: string }) => {
      const slug = await projectOf(opts.project);
      const api = await client();
      await api.request('DELETE', `/projects/${slug}/domains/${encodeURIComponent(hostname)}`, z.unknown());
      const p = await api.get(`/projects/${slug}`, ProjectViewSchema);
      out.result({ project: p.slug, domains: p.domains }, () => out.line(`Removed ${hostname} from ${slug}`));
    });

  try {
    await program.parseAsync(argv);
    return CLI_EXIT_CODES.ok;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help')
      return CLI_EXIT_CODES.ok;
    const e = asCliError(err);
    // A failed deploy whose result was printed (--json) says why on stderr only: one document.
    if ((err as { printed?: boolean }).printed) out.info(`Error: ${e.message}`);
    else out.failure(e);
    return e.exitCode;
  }
}

function describe(out: Output, d: DeploymentView): void {
  out.line(`${d.id}  ${d.projectSlug}`);
  out.line(`  status     ${d.status}${d.phase ? ` (${d.phase})` : ''}${d.error ? `: ${d.error}` : ''}`);
  out.line(`  target     ${d.target}${d.isProduction ? ' (current production)' : ''}`);
  out.line(
    `  source     ${d.source ?? 'git'}${d.branch ? `, branch ${d.branch}` : ''}${d.commitSha ? ` @ ${d.commitSha.slice(0, 12)}` : ''}`,
  );
  out.line(`  regions    ${d.regions.join(', ')}`);
  out.line(
    `  files      ${d.stats.files} (${formatBytes(d.stats.bytes)}), uploaded ${formatBytes(d.stats.uploadedBytes)}`,
  );
  out.line(`  url        ${d.deploymentUrl}`);
  out.line(`  created    ${d.createdAt}`);
}
