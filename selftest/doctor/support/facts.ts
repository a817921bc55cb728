import type { Facts } from '../../../fixtures/doctor/facts.ts';
import type { DoctorInput } from '../../../fixtures/doctor/types.ts';

/** Facts of a healthy table `app.items` (id primary key, owner, room), changed per test. */
export function healthyFacts(over: (f: Facts) => void = () => {}): Facts {
  const facts: Facts = {
    schemaExists: true,
    roleExists: true,
    table: {
      kind: 'r',
      rls: true,
      forceRls: false,
      replicaIdentity: 'd',
      replicaIdentityIndex: null,
      columns: [
        { name: 'id', type: 'bigint' },
        { name: 'owner', type: 'uuid' },
        { name: 'room', type: 'integer' },
      ],
      primaryKey: ['id'],
    },
    grants: { schemaUsage: true, tableSelect: true, selectableColumns: ['id', 'owner', 'room'] },
    publication: {
      allTables: false,
      insert: true,
      update: true,
      delete: true,
      member: { columns: ['id', 'owner', 'room'], rowFilter: null },
    },
    policies: [
      {
        name: 'members read',
        permissive: true,
        cmd: 'SELECT',
        roles: ['member'],
        appliesToRole: true,
        using: '(owner = auth.uid())',
      },
    ],
    row: {
      key: { id: 7 },
      found: true,
      values: { id: 7, owner: 'u-1', room: 3 },
      rowFilterPasses: null,
      visibility: { visible: true, method: 'as_role', error: null },
    },
  };
  over(facts);
  return facts;
}

export const INPUT: DoctorInput = {
  table: { schema: 'app', name: 'items' },
  event: 'INSERT',
  role: 'member',
  claims: { role: 'member', sub: 'u-1', tenant: 'acme', exp: 1 },
  rowId: 7,
  filter: null,
};
