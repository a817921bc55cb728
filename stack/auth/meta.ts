/** GET /health (GoTrue HealthCheck), reporting the GoTrue release the CLI pins. */
export function health(): Record<string, unknown> {
  return {
    version: 'v2.189.0',
    name: 'GoTrue',
    description: 'GoTrue is a user registration and authentication API',
  };
}

const PROVIDERS = [
  'anonymous_users',
  'apple',
  'azure',
  'bitbucket',
  'discord',
  'facebook',
  'snapchat',
  'figma',
  'fly',
  'github',
  'gitlab',
  'google',
  'keycloak',
  'kakao',
  'linkedin',
  'linkedin_oidc',
  'notion',
  'spotify',
  'slack',
  'slack_oidc',
  'workos',
  'twitch',
  'twitter',
  'email',
  'phone',
  'zoom',
];

/**
 * GET /settings (GoTrue Settings): what this server really does. Email and phone password logins
 * are on, sign-up is off (only the admin API creates users), no mailer or SMS provider exists.
 */
export function settings(): Record<string, unknown> {
  const external: Record<string, boolean> = {};
  for (const p of PROVIDERS) external[p] = p === 'email' || p === 'phone';
  return {
    external,
    disable_signup: true,
    mailer_autoconfirm: false,
    phone_autoconfirm: false,
    sms_provider: '',
    saml_enabled: false,
    saml_private_key_next_configured: false,
    passkeys_enabled: false,
  };
}
