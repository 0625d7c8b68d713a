// A real OpenID Connect provider (the certified `oidc-provider` package) on loopback for the SSO tests.
//
// Usage: node server.js <config.json>
//   {"port": 4100, "clients": [<oidc-provider client metadata>],
//    "accounts": [{"id", "email", "email_verified", "password", "name", "groups": [...]}]}
//   (email_verified defaults to true; null leaves the claim out of the ID token and userinfo)
//
// There are no HTML pages: the login and consent steps are JSON endpoints a test drives with plain HTTP.
//   GET  /interaction/:uid          -> {"uid", "prompt", "client_id"}
//   POST /interaction/:uid/login    (form: email, password) -> 303 back into the authorization flow
//   POST /interaction/:uid/confirm  -> grants the requested scopes and claims, 303 back into the flow
// It prints "ready <issuer>" once it listens.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = new Map(config.accounts.map((account) => [account.id, account]));

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
}

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey()] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups'],
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const claims = { sub: id, email: account.email, name: account.name ?? id, groups: account.groups ?? [] };
        // "email_verified": null leaves the claim out, as some providers do
        if (account.email_verified !== null) claims.email_verified = account.email_verified ?? true;
        return claims;
      },
    };
  },
});

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function login(ctx, interaction) {
  const form = await formBody(ctx.req);
  const account = [...accounts.values()].find((candidate) => candidate.email === form.get('email'));
  if (!account || account.password !== form.get('password')) {
    ctx.status = 401;
    ctx.body = { error: 'invalid_credentials' };
    return null;
  }
  return { login: { accountId: account.id } };
}

async function confirm(ctx, interaction) {
  const { prompt: { details }, params, session } = interaction;
  const grant = interaction.grantId
    ? await provider.Grant.find(interaction.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return { consent: { grantId: await grant.save() } };
}

const steps = { login, confirm };

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm))?$/);
  if (!match) return next();
  const interaction = await provider.interactionDetails(ctx.req, ctx.res);
  const step = match[2];
  if (!step && ctx.method === 'GET') {
    ctx.body = { uid: interaction.uid, prompt: interaction.prompt.name, client_id: interaction.params.client_id };
    return undefined;
  }
  if (!step || ctx.method !== 'POST') return next();
  const result = await steps[step](ctx, interaction);
  if (result) {
    ctx.status = 303;
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
  }
  return undefined;
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
