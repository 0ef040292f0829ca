import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError, type OidcProviderSettings } from '@deploysphere/contracts';
import type { Db } from '@deploysphere/db';
import * as oidc from 'openid-client';
import type { AccountService, SignedIn } from './account-service.js';

/** How long a started sign-in may take at the provider before its flow cookie is refused. */
export const OIDC_FLOW_MAX_AGE_SECONDS = 10 * 60;

/** What the browser carries between the redirect to the provider and the callback (signed). */
interface FlowState {
  provider: string;
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  expires: number;
}

/**
 * OpenID Connect sign-in: the authorization code flow with PKCE, state and nonce, through
 * openid-client. The flow's secrets (PKCE verifier, state, nonce) travel in an httpOnly cookie
 * signed with a key derived from the admin token, so no table holds half-finished sign-ins.
 *
 * Who may sign in: a provider identity already linked to a user; else a user whose email the
 * provider says is verified (the identity is linked then); else someone with a pending
 * invitation for that verified email (the invitation is spent). Nobody else: sign-up is by
 * invitation.
 */
export class OidcSignIn {
  private readonly configs = new Map<string, Promise<oidc.Configuration>>();
  private readonly flowKey: Buffer;

  constructor(
    private readonly deps: {
      db: Db;
      accounts: AccountService;
      providers: OidcProviderSettings[];
      /** The control plane's public URL: callbacks are `<it>/api/v1/auth/oidc/<id>/callback`. */
      publicUrl: string;
      adminToken: string;
      now?: () => number;
    },
  ) {
    this.flowKey = createHmac('sha256', deps.adminToken).update('deploysphere-oidc-flow-v1').digest();
  }

  providers(): { id: string; name: string }[] {
    return this.deps.providers.map((p) => ({ id: p.id, name: p.name }));
  }

  callbackUrl(providerId: string): string {
    return `${this.deps.publicUrl}/api/v1/auth/oidc/${providerId}/callback`;
  }

  private settings(providerId: string): OidcProviderSettings {
    const settings = this.deps.providers.find((p) => p.id === providerId);
    if (!settings) throw AppError.notFound(`Sign-in provider ${providerId}`, 'provider');
    return settings;
  }

  /** The provider's discovered configuration, fetched once (a failed discovery is retried next time). */
  private config(providerId: string): Promise<oidc.Configuration> {
    const settings = this.settings(providerId);
    let config = this.configs.get(providerId);
    if (!config) {
      const issuer = new URL(settings.issuer);
      // Plain http only for a provider on this machine (local development and tests).
      const local =
        issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
      config = oidc
        .discovery(issuer, settings.clientId, settings.clientSecret, undefined, {
          ...(local ? { execute: [oidc.allowInsecureRequests] } : {}),
        })
        .catch((err: unknown) => {
          this.configs.delete(providerId);
          throw AppError.unavailable(`The sign-in provider ${settings.name} cannot be reached`, err);
        });
      this.configs.set(providerId, config);
    }
    return config;
  }

  /** Where to send the browser, and the flow cookie to set on the way. */
  async start(providerId: string, returnTo: string): Promise<{ redirect: string; flowCookie: string }> {
    const config = await this.config(providerId);
    const verifier = oidc.randomPKCECodeVerifier();
    const flow: FlowState = {
      provider: providerId,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier,
      returnTo,
      expires: this.now() + OIDC_FLOW_MAX_AGE_SECONDS * 1000,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.callbackUrl(providerId),
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { redirect: url.href, flowCookie: this.seal(flow) };
  }

  /**
   * The provider sent the browser back: check the flow cookie, then state, nonce and PKCE
   * through the code exchange, and sign the user in.
   */
  async finish(
    providerId: string,
    callbackUrl: URL,
    flowCookie: string | undefined,
    client: { ip: string; userAgent?: string | undefined; previousCookie?: string | undefined },
  ): Promise<SignedIn & { returnTo: string }> {
    const flow = this.open(flowCookie);
    if (!flow || flow.provider !== providerId) {
      throw new AppError(
        400,
        'invalid_sign_in',
        'This sign-in expired or was not started here; start it again',
        {
          field: 'state',
        },
      );
    }
    const config = await this.config(providerId);
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new AppError(400, 'invalid_sign_in', `The provider's answer was refused: ${describe(err)}`, {
        field: 'state',
        cause: err,
      });
    }
    const claims = tokens.claims()!;
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    const email = typeof info.email === 'string' ? info.email.toLowerCase() : undefined;
    const verified = info.email_verified === true;
    const name = typeof info.name === 'string' && info.name ? info.name : (email?.split('@')[0] ?? 'user');
    const userId = await this.userFor(providerId, claims.sub, email, verified, name);
    const session = await this.deps.accounts.startSessionFor(userId, client);
    return { ...session, returnTo: flow.returnTo };
  }

  private async userFor(
    provider: string,
    subject: string,
    email: string | undefined,
    verified: boolean,
    name: string,
  ): Promise<string> {
    const linked = await this.deps.db.oidcIdentity.findUnique({
      where: { provider_subject: { provider, subject } },
    });
    if (linked) return linked.userId;
    const refuse = () =>
      new AppError(403, 'no_account', 'No account matches this sign-in; ask a team owner for an invitation');
    // An unverified email proves nothing: linking on it would let anyone who can set that
    // address at some provider take over the account.
    if (!email || !verified) throw refuse();
    let userId = (await this.deps.db.user.findUnique({ where: { email } }))?.id;
    if (!userId) userId = await this.deps.accounts.joinByPendingInvitation(email, name);
    if (!userId) throw refuse();
    await this.deps.db.oidcIdentity.create({ data: { provider, subject, userId } });
    return userId;
  }

  private seal(flow: FlowState): string {
    const payload = Buffer.from(JSON.stringify(flow)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  private open(cookie: string | undefined): FlowState | undefined {
    if (!cookie || cookie.length > 4096) return undefined;
    const [payload, mac] = cookie.split('.');
    if (!payload || !mac) return undefined;
    const expected = Buffer.from(this.mac(payload));
    const presented = Buffer.from(mac);
    if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
    const flow = JSON.parse(Buffer.from(payload, 'base64url').toString()) as FlowState;
    return flow.expires > this.now() ? flow : undefined;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.flowKey).update(payload).digest('base64url');
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}

function describe(err: unknown): string {
  const e = err as { error?: string; code?: string; message?: string };
  return e.error ?? e.code ?? e.message ?? 'invalid response';
}
