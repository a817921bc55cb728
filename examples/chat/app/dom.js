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
  const items = new Map();
  return {
    element: list,
    add(message) {
      if (items.has(message.id)) return;
      const item = h('li', { 'data-message-id': String(message.id) }, message.body);
      items.set(message.id, item);
      list.append(item);
    },
    /** An edited message shows its new text. */
    update(message) {
      const item = items.get(message.id);
      if (item) item.textContent = message.body;
    },
    /** A deleted message leaves the list. */
    remove(message) {
      items.get(message.id)?.remove();
      items.delete(message.id);
    },
  };
}
