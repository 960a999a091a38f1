/*
 * names.c - generated names and deterministic shortening (see names.h).
 */
#include "names.h"

#include <openssl/evp.h>
#include <string.h>

void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

char *name_shorten(const char *name)
{
    size_t len = strlen(name);
    if (len <= NAME_MAX_BYTES)
        return xstrdup(name);
    char hash[65];
    sha256_hex(name, len, hash);
    size_t keep = NAME_MAX_BYTES - 9; /* "_" + 8 hex digits */
    /* do not cut a UTF-8 sequence: back up over continuation bytes */
    while (keep > 0 && ((unsigned char)name[keep] & 0xC0) == 0x80)
        keep--;
    return xasprintf("%.*s_%.8s", (int)keep, name, hash);
}

char *name_generate(const char *table, const char *const *cols, size_t ncols, const char *suffix)
{
    sbuf b = SBUF_INIT;
    sbuf_add(&b, table);
    for (size_t i = 0; i < ncols; i++) {
        sbuf_addc(&b, '_');
        sbuf_add(&b, cols[i]);
    }
    if (suffix && *suffix) {
        sbuf_addc(&b, '_');
        sbuf_add(&b, suffix);
    }
    char *full = sbuf_detach(&b);
    char *s = name_shorten(full);
    free(full);
    return s;
}
