/*
 * sim_sha256.c - SHA-256 of uploads (Moonraker's "checksum" field), through
 * OpenSSL's libcrypto like the rest of rrcloud.
 */
#include "sim/sim.h"

#include <openssl/evp.h>
#include <string.h>

void sim_sha256_init(struct sim_sha256 *s)
{
    if (!s->ctx)
        s->ctx = EVP_MD_CTX_new();
    s->ok = s->ctx && EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) == 1;
}

void sim_sha256_update(struct sim_sha256 *s, const void *data, size_t len)
{
    if (s->ok && EVP_DigestUpdate(s->ctx, data, len) != 1)
        s->ok = 0;
}

void sim_sha256_final(struct sim_sha256 *s, uint8_t out[32])
{
    unsigned int n = 0;

    if (!s->ok || EVP_DigestFinal_ex(s->ctx, out, &n) != 1 || n != 32)
        memset(out, 0, 32);
    s->ok = 0;
}

void sim_sha256_free(struct sim_sha256 *s)
{
    EVP_MD_CTX_free(s->ctx);
    s->ctx = NULL;
    s->ok = 0;
}
