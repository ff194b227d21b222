#!/usr/bin/env node
// Prints an scrypt hash of a client secret read from stdin, for `clients[].secretHash`.
//   openssl rand -base64 32 | tee secret.txt | node scripts/hash-secret.mjs
import { randomBytes, scryptSync } from 'node:crypto';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const secret = Buffer.concat(chunks).toString('utf8').trim();
if (secret.length < 16) {
  console.error('hash-secret: the secret must be at least 16 characters');
  process.exit(2);
}
const N = 32768, r = 8, p = 1;
const salt = randomBytes(16);
const key = scryptSync(secret.normalize('NFKC'), salt, 32, { N, r, p, maxmem: 2 * 128 * N * r + 1024 * 1024 });
console.log(['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$'));
