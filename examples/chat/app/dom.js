/** Build an element: h('label', { for: 'email' }, 'Email address'). Text only, never HTML. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value !== false && value !== undefined) element.setAttribute(name, value === true ? '' : value);
  }
  element.append(...children);
  return element;
}

export function show(...children) {
  document.getElementById('app').replaceChildren(...children);
}

/** A message list kept in id order, one item per message however often it is announced. */
export function messageList() {
  const list = h('ul', { 'aria-label': 'Messages' });
  const seen = new Set();
  return {
    element: list,
    add(message) {
      if (seen.has(message.id)) return;
      seen.add(message.id);
      list.append(h('li', { 'data-message-id': String(message.id) }, message.body));
    },
  };
}
