import { h } from './dom.js';

/** Where a signed-in user without this portal's role lands (the seeds' auth callback does the same). */
export function mountUnauthorized(root, { model, email, role, signOut }) {
  root.replaceChildren(
    h(
      'section',
      { testid: 'unauthorized', dataset: { userRole: role ?? '' } },
      h('h1', {}, 'Not authorized'),
      h(
        'p',
        {},
        `${email ?? 'This account'} has ${role ? `the "${role}" role` : 'no help-desk role'}; ` +
          `the ${model.role} portal needs "${model.role}".`,
      ),
      h('button', { testid: 'sign-out', type: 'button', onClick: signOut }, 'Sign out'),
    ),
  );
  return () => {};
}
