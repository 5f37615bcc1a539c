import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface DevSecrets {
  adminToken: string;
  secretsKey: Buffer;
}

export const DEV_SECRETS_FILE = 'secrets.env';

/**
 * The embedded default needs an admin token and an encryption key without asking for them.
 * They are generated once into DATA_DIR/secrets.env (mode 0600) and reused on every start,
 * so webhook secrets stay decryptable across restarts. Values are never printed.
 */
export function loadOrCreateDevSecrets(dataDir: string, warn: (msg: string) => void): DevSecrets {
  const file = join(dataDir, DEV_SECRETS_FILE);
  if (existsSync(file)) {
    const values = Object.fromEntries(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1).trim()]),
    );
    if (values.ADMIN_TOKEN && values.SECRETS_KEY) {
      return { adminToken: values.ADMIN_TOKEN, secretsKey: Buffer.from(values.SECRETS_KEY, 'base64') };
    }
  }
  const secrets = { adminToken: `adm_${randomBytes(32).toString('base64url')}`, secretsKey: randomBytes(32) };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(
    file,
    `# Generated for the embedded default. Set ADMIN_TOKEN and SECRETS_KEY yourself in production.\n` +
      `ADMIN_TOKEN=${secrets.adminToken}\nSECRETS_KEY=${secrets.secretsKey.toString('base64')}\n`,
    { mode: 0o600 },
  );
  warn(`warning: ADMIN_TOKEN and SECRETS_KEY were not set; generated them into ${file} (keep this file: it decrypts webhook secrets)`);
  return secrets;
}
