/** A fault requested at boot: `--fault agent-prod:csp-blocks-socket`, or `RTM_FAULTS=a:b,c:d`. */
export interface FaultSpec {
  cell: string;
  fault: string;
}

export function parseFaultSpec(text: string, source: string): FaultSpec {
  const [cell, fault, ...rest] = text.trim().split(':');
  if (!cell || !fault || rest.length) {
    throw new Error(
      `${source}: "${text}" is not <cell>:<fault> (e.g. agent-prod:csp-blocks-socket, prod:table-not-published). ` +
        'List the faults with `npm run stack -- --list-faults`.',
    );
  }
  return { cell, fault };
}

export function parseFaultList(text: string | undefined, source: string): FaultSpec[] {
  return (text ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map((s) => parseFaultSpec(s, source));
}
