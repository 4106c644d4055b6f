// File names of the lab PKI inside the state folder's pki/ directory.
export const PKI_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'apiserver.crt',
  serverKey: 'apiserver.key',
  clientCert: 'admin.crt',
  clientKey: 'admin.key',
} as const;
