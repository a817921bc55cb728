import { generate } from 'selfsigned';

export interface EdgeCertificate {
  key: string;
  cert: string;
  /** SHA-1 fingerprint as `selfsigned` reports it, for "which certificate is this" in logs. */
  fingerprint: string;
  hostnames: string[];
}

/**
 * A certificate made at boot for the edge's hostnames. Nothing trusts it: the matrix opens embedded
 * targets with `ignoreHTTPSErrors`, exactly as a team would against a staging host with its own CA.
 * Made fresh each boot so no private key is ever committed or reused.
 */
export async function makeEdgeCertificate(domain: string, hosts: string[]): Promise<EdgeCertificate> {
  const hostnames = [`*.${domain}`, domain, ...hosts.map((h) => `${h}.${domain}`)];
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: `*.${domain}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 30 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...hostnames.map((value) => ({ type: 2 as const, value })), { type: 7, ip: '127.0.0.1' }],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint: pems.fingerprint, hostnames };
}
