import {
  CreateWebhookBodySchema,
  GitProviderSchema,
  type CreateWebhookBody,
  type GitProvider,
  type ProjectView,
  type WebhookDeliveryView,
  type WebhookSecretView,
} from '@deploysphere/contracts';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import type { z } from 'zod';
import { api } from '../api/endpoints.js';
import { deliveriesQuery, webhooksQuery } from '../api/queries.js';
import { queryKeys } from '../api/query-keys.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { ErrorState } from '../components/error-state.js';
import { LoadingState } from '../components/loading-state.js';
import { SaveNotice } from '../components/save-notice.js';
import { TextField } from '../components/text-field.js';
import { errorMessage } from '../lib/error-message.js';
import { absoluteTime, shortDeploymentId, shortSha, timeAgo } from '../lib/format.js';
import {
  ProductionBranchFormSchema,
  type ProductionBranchFormOutput,
  type ProductionBranchFormValues,
} from '../lib/form-schemas.js';
import { useProjectChange, type ProjectChange } from '../lib/use-project-change.js';

const PROVIDER_NAMES: Record<GitProvider, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  gitea: 'Gitea / Forgejo',
  generic: 'Generic (any CI)',
};

/** What the provider calls the field the secret goes in, so the user knows where to paste it. */
const SECRET_FIELD: Record<GitProvider, string> = {
  github: 'Secret (content type application/json, "Just the push event")',
  gitlab: 'Secret token (trigger: Push events)',
  gitea: 'Secret (content type application/json, push events)',
  generic: 'key of the X-DeploySphere-Signature HMAC (see docs/git-deploys.md)',
};

/**
 * The Git card: the production branch, the provider webhooks (connect, rotate, disconnect) and
 * the recent deliveries with what each led to. A secret is shown once, right after it is made.
 */
export function GitSettings({ project }: { project: ProjectView }) {
  return (
    <section className="card" aria-labelledby="git-heading">
      <h2 id="git-heading">Git</h2>
      <p className="field-hint">
        A push to the production branch deploys to production. A push to any other branch makes a preview at{' '}
        <code>{project.slug}-git-&lt;branch&gt;</code>, which never touches production.
      </p>
      <ProductionBranch project={project} />
      <Webhooks slug={project.slug} />
      <Deliveries slug={project.slug} />
    </section>
  );
}

function ProductionBranch({ project }: { project: ProjectView }) {
  const form = useForm<ProductionBranchFormValues, unknown, ProductionBranchFormOutput>({
    resolver: zodResolver(ProductionBranchFormSchema),
    mode: 'onChange',
    defaultValues: { gitRef: project.gitRef ?? '' },
  });
  const { busy, result, save } = useProjectChange(
    (change: ProjectChange & { body: ProductionBranchFormOutput }) =>
      api.updateProject(project.slug, change.body),
  );
  const submit = form.handleSubmit(async (body) => {
    await save({
      item: 'branch',
      body,
      done: body.gitRef ? `Production branch: ${body.gitRef}.` : 'Production follows the default branch.',
    });
  });
  return (
    <>
      <form className="env-add single" onSubmit={submit} noValidate aria-label="Set the production branch">
        <TextField
          id="production-branch"
          label="Production branch"
          placeholder="the repository's default branch"
          hint="Empty: the default branch the provider names in each push."
          {...form.register('gitRef')}
          error={form.formState.errors.gitRef?.message}
          autoComplete="off"
        />
        <button type="submit" disabled={busy !== undefined}>
          {busy ? 'Saving…' : 'Save branch'}
        </button>
      </form>
      <SaveNotice result={result} />
    </>
  );
}

/** A value with a button that copies it; says so once it did. */
function Copyable({ label, value }: { label: string; value: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <>
      <dt>{label}</dt>
      <dd>
        <code>{value}</code>
      </dd>
      <dd>
        <button
          type="button"
          className="quiet"
          aria-label={`Copy the ${label.toLowerCase()}`}
          onClick={() =>
            void navigator.clipboard?.writeText(value).then(
              () => setCopied(true),
              () => setCopied(false),
            )
          }
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </dd>
    </>
  );
}

function Webhooks({ slug }: { slug: string }) {
  const client = useQueryClient();
  const hooks = useQuery(webhooksQuery(slug));
  const [shown, setShown] = useState<WebhookSecretView | undefined>();
  const [disconnecting, setDisconnecting] = useState<GitProvider | undefined>();
  const connect = useMutation({
    mutationFn: (body: CreateWebhookBody) => api.connectWebhook(slug, body),
    onSuccess: (view) => {
      setShown(view);
      void client.invalidateQueries({ queryKey: queryKeys.webhooks(slug) });
    },
  });
  const disconnect = useMutation({
    mutationFn: (provider: GitProvider) => api.disconnectWebhook(slug, provider),
    onSuccess: () => {
      setDisconnecting(undefined);
      setShown(undefined);
      void client.invalidateQueries({ queryKey: queryKeys.webhooks(slug) });
    },
  });
  const form = useForm<z.input<typeof CreateWebhookBodySchema>, unknown, CreateWebhookBody>({
    resolver: zodResolver(CreateWebhookBodySchema),
    defaultValues: { provider: 'github' },
  });
  const connected = new Set(hooks.data?.map((h) => h.provider));
  const available = GitProviderSchema.options.filter((p) => !connected.has(p));

  return (
    <div aria-label="Webhooks" role="group">
      <h3>Webhooks</h3>
      {hooks.isPending && <LoadingState label="Loading webhooks…" />}
      {hooks.isError && <ErrorState error={hooks.error} onRetry={() => void hooks.refetch()} />}
      {hooks.data &&
        (hooks.data.length === 0 ? (
          <p className="muted">
            No webhook yet: connect one, then paste its URL and secret into the provider.
          </p>
        ) : (
          <ul className="env-list hook-list" aria-label="Connected webhooks">
            {hooks.data.map((h) => (
              <li key={h.provider}>
                <span>
                  <strong>{PROVIDER_NAMES[h.provider]}</strong> <code>{h.url}</code>{' '}
                  <span className="muted">
                    secret set <time dateTime={h.rotatedAt}>{timeAgo(h.rotatedAt)}</time>
                  </span>
                </span>
                <span>
                  <button
                    type="button"
                    className="quiet"
                    disabled={connect.isPending}
                    onClick={() => connect.mutate({ provider: h.provider })}
                    aria-label={`Rotate the ${PROVIDER_NAMES[h.provider]} secret`}
                  >
                    Rotate secret
                  </button>
                  <button
                    type="button"
                    className="quiet"
                    onClick={() => {
                      disconnect.reset();
                      setDisconnecting(h.provider);
                    }}
                    aria-label={`Disconnect ${PROVIDER_NAMES[h.provider]}`}
                  >
                    Disconnect
                  </button>
                </span>
              </li>
            ))}
          </ul>
        ))}

      {shown && (
        <div className="secret-once" role="status">
          <strong>Copy the secret now: it is not shown again.</strong> In {PROVIDER_NAMES[shown.provider]},
          paste the URL as the webhook's address and the secret as its {SECRET_FIELD[shown.provider]}. Any
          older secret of this hook no longer works.
          <dl>
            <Copyable label="URL" value={shown.url} />
            <Copyable label="Secret" value={shown.secret} />
          </dl>
          <button type="button" className="quiet" onClick={() => setShown(undefined)}>
            Done, hide it
          </button>
        </div>
      )}
      {connect.isError && (
        <p className="form-error" role="alert">
          {errorMessage(connect.error, 'Could not connect the webhook')}
        </p>
      )}

      {available.length > 0 && (
        <form
          className="env-add single"
          aria-label="Connect a webhook"
          noValidate
          onSubmit={form.handleSubmit((body) => connect.mutate(body))}
        >
          <div className="field">
            <label htmlFor="hook-provider">Provider</label>
            <select id="hook-provider" {...form.register('provider')}>
              {available.map((p) => (
                <option key={p} value={p}>
                  {PROVIDER_NAMES[p]}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={connect.isPending}>
            {connect.isPending ? 'Connecting…' : 'Connect'}
          </button>
        </form>
      )}

      {disconnecting && (
        <ConfirmDialog
          title={`Disconnect ${PROVIDER_NAMES[disconnecting]}?`}
          confirmLabel="Disconnect"
          busy={disconnect.isPending}
          error={disconnect.isError ? errorMessage(disconnect.error, 'Could not disconnect') : undefined}
          onConfirm={() => disconnect.mutate(disconnecting)}
          onCancel={() => setDisconnecting(undefined)}
        >
          <p>
            Its URL stops accepting deliveries at once, so pushes no longer deploy. The delivery log stays.
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}

function deliveryDetail(d: WebhookDeliveryView) {
  if ((d.outcome === 'deployed' || d.outcome === 'skipped') && d.deploymentId) {
    return (
      <>
        {d.outcome === 'skipped' && d.reason && <>{d.reason} · </>}
        {d.branch && <>{d.branch} </>}
        <Link to="/deployments/$id" params={{ id: d.deploymentId }}>
          <code>{shortDeploymentId(d.deploymentId)}</code>
        </Link>
      </>
    );
  }
  return d.reason ?? '';
}

function Deliveries({ slug }: { slug: string }) {
  const deliveries = useQuery(deliveriesQuery(slug));
  return (
    <div aria-label="Recent deliveries" role="group">
      <h3>Recent deliveries</h3>
      {deliveries.isPending && <LoadingState label="Loading deliveries…" />}
      {deliveries.isError && !deliveries.data && (
        <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      )}
      {deliveries.data &&
        (deliveries.data.length === 0 ? (
          <p className="muted">
            None yet. A delivery whose signature fails is refused and not listed here (it is counted in the
            control plane's metrics).
          </p>
        ) : (
          <div className="table-wrap">
            <table className="deliveries">
              <caption className="visually-hidden">Webhook deliveries of {slug}, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Event</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                  <th scope="col">Commit</th>
                  <th scope="col">Delivery id</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.data.map((d) => (
                  <tr key={d.id}>
                    <td>
                      <time dateTime={d.receivedAt} title={absoluteTime(d.receivedAt)}>
                        {timeAgo(d.receivedAt)}
                      </time>
                    </td>
                    <td>{PROVIDER_NAMES[d.provider]}</td>
                    <td>{d.event}</td>
                    <td>
                      <span className={`badge outcome-${d.outcome}`}>{d.outcome}</span>
                    </td>
                    <td>{deliveryDetail(d)}</td>
                    <td>
                      <code title={d.commitSha ?? undefined}>{shortSha(d.commitSha)}</code>
                    </td>
                    <td>
                      <code>{d.deliveryId}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
    </div>
  );
}
