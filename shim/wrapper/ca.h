/*
 * ca.h: `tlshim ca`, a small certificate authority for tlshim policies.
 *
 *   tlshim ca init DIR [--name CN] [--key ecdsa|rsa|ed25519] [--days N] [--force]
 *   tlshim ca issue DIR NAME [--dns NAME]... [--ip ADDR]... [--client]
 *                   [--key ecdsa|rsa|ed25519] [--days N] [--out PREFIX] [--force]
 *   tlshim ca pin CERT
 *
 * The files it writes are what a policy names as they are: ca.crt for `ca`,
 * NAME.crt/NAME.key for `cert`/`key`, and the `sha256//` value for `pin`.
 * Built on libcrypto (X509, EVP_PKEY, PEM) only; randomness from libsodium.
 */
#ifndef TLSHIM_WRAPPER_CA_H
#define TLSHIM_WRAPPER_CA_H

/* tlshim_ca_main(argc, argv): run `tlshim ca ...` with ${argv}[0] == "ca".
 * Returns the exit status: 0 done, 1 failed (a sentence on stderr), 2 usage
 * error. */
int tlshim_ca_main(int argc, char **argv);

#endif
