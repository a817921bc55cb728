import { h } from './dom.js';

/** The sign-in form. `signIn(email, password)` resolves to an error message or null. */
export function mountLogin(root, { model, signIn }) {
  const email = h('input', {
    testid: 'sign-in-email',
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
  });
  const password = h('input', {
    testid: 'sign-in-password',
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const submit = h('button', { testid: 'sign-in-submit', type: 'submit' }, 'Sign in');
  const error = h('p', { testid: 'sign-in-error', className: 'error', role: 'alert', hidden: true });
  const form = h(
    'form',
    {
      testid: 'sign-in-form',
      onSubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        error.hidden = true;
        const message = await signIn(email.value, password.value);
        submit.disabled = false;
        if (message) {
          error.textContent = message;
          error.hidden = false;
        }
      },
    },
    h('label', {}, 'Email ', email),
    h('label', {}, 'Password ', password),
    submit,
    error,
  );
  root.replaceChildren(h('h1', {}, `Sign in to the ${model.role} portal`), form);
  return () => {};
}
