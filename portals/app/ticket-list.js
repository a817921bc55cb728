import { h } from './dom.js';

/**
 * The dashboard's ticket list, keyed by ticket id so a REST load and realtime events can arrive in
 * any order: an insert or update is an upsert, a delete removes the row. Newest first.
 */
export class TicketList {
  constructor() {
    this.element = h('ul', { testid: 'ticket-list', className: 'tickets' });
    this.rows = new Map();
  }

  upsert(ticket) {
    if (!ticket?.id) return;
    let row = this.rows.get(ticket.id);
    if (!row) {
      row = h('li', { testid: 'ticket-row', dataset: { ticketId: ticket.id } });
      this.rows.set(ticket.id, row);
    }
    row.textContent = ticket.title ?? '';
    row.dataset.status = ticket.status ?? '';
    row.dataset.priority = ticket.priority ?? '';
    row.dataset.createdAt = ticket.created_at ?? row.dataset.createdAt ?? '';
    this.#place(row);
  }

  remove(id) {
    this.rows.get(id)?.remove();
    this.rows.delete(id);
  }

  #place(row) {
    const created = createdAt(row);
    const before = [...this.element.children].find((other) => other !== row && createdAt(other) < created);
    if (before) this.element.insertBefore(row, before);
    else if (row.parentElement !== this.element || row.nextElementSibling) this.element.append(row);
  }
}

/** REST and realtime may format timestamptz differently; compare instants, unknown ones first. */
function createdAt(row) {
  const time = Date.parse(row.dataset.createdAt);
  return Number.isNaN(time) ? Number.POSITIVE_INFINITY : time;
}
