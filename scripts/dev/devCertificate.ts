/** The Cosmos server's TLS certificate: self-signed for localhost and 127.0.0.1, made once and kept with the data. */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { generate } from 'selfsigned';

export interface DevCertificate {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
  /** When the certificate stops being valid. */
  validTo: Date;
  /** True when it was made on this call. */
  created: boolean;
}

const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
/** Renewed this long before it expires, so a long-running dev box never meets an expired certificate. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * `<dir>/key.pem` and `<dir>/cert.pem`, made on first use (CN localhost; SAN localhost, 127.0.0.1, ::1; 10 years)
 * and replaced when unreadable, expiring, or not valid for 127.0.0.1. @vercel/cosmosdb-server's bundled certificate
 * has expired, which is why we bring our own.
 */
export async function ensureDevCertificate(dir: string, now: Date = new Date()): Promise<DevCertificate> {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  if (existsSync(keyFile) && existsSync(certFile)) {
    try {
      const key = readFileSync(keyFile, 'utf8');
      const cert = readFileSync(certFile, 'utf8');
      const x = new X509Certificate(cert);
      const validTo = new Date(x.validTo);
      if (validTo.getTime() - now.getTime() > RENEW_BEFORE_MS && x.checkIP('127.0.0.1') !== undefined && x.checkHost('localhost') !== undefined) {
        return { key, cert, keyFile, certFile, validTo, created: false };
      }
    } catch {
      // Unreadable or corrupt: make a new one below.
    }
  }
  mkdirSync(dir, { recursive: true });
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 24 * 60 * 60 * 1000),
    notAfterDate: new Date(now.getTime() + 10 * YEAR_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeAtomically(keyFile, pems.private, 0o600);
  writeAtomically(certFile, pems.cert, 0o644);
  return { key: pems.private, cert: pems.cert, keyFile, certFile, validTo: new Date(new X509Certificate(pems.cert).validTo), created: true };
}

function writeAtomically(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}
