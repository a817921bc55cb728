/**
 * The role check the seeds' auth callback does: read the `user_role` claim from the access token
 * the custom access token hook shaped. Decoding (not verifying) is right here: the browser only
 * routes on it; Postgres enforces the role through RLS with the verified token.
 */
export function accessTokenClaims(accessToken) {
  const payload = String(accessToken).split('.')[1];
  if (!payload) throw new TypeError('The access token is not a JWT (no payload segment)');
  const base64 = payload
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(payload.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The session's portal role, or null when the token has none (or is unreadable). */
export function sessionRole(session) {
  try {
    const role = accessTokenClaims(session.access_token).user_role;
    return typeof role === 'string' ? role : null;
  } catch (error) {
    // A token we cannot read carries no role we can trust; anything else is a bug to surface.
    if (error instanceof TypeError || error instanceof SyntaxError || error instanceof DOMException)
      return null;
    throw error;
  }
}
