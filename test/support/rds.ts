// Test support: a small RDS instance in moto, tagged as the caller asks (local/databases.ts).
export { createDatabase } from '../../local/databases.ts';
