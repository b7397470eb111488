/**
 * A self-signed certificate for 127.0.0.1 (made with openssl in a temporary folder) and a TLS
 * server on loopback that hands each connection to `onSocket`: what a wss:// agent behind a
 * TLS proxy looks like to axctl.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';

export const HAS_OPENSSL = spawnSync('openssl', ['version']).status === 0;

export interface SelfSigned {
  certFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A key and a certificate valid for a day for IP 127.0.0.1 only (not for the name localhost). */
export function makeSelfSigned(dir: string): SelfSigned {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=axagent-test', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1'], { stdio: 'ignore' });
  return { certFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** A TLS server on 127.0.0.1: its port and how to close it (with every connection it holds). */
export async function listenTls(pair: SelfSigned, onSocket: (socket: tls.TLSSocket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: pair.cert, key: pair.key }, onSocket);
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  // A client that gives up on the certificate ends the handshake; nothing to report.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
