/*
 * scrypt.c - password hashes in the format of the `scrypt-kdf` npm package,
 * which Medusa v1's UserService uses (`Scrypt.kdf(password, {logN: 1, r: 1,
 * p: 1})`, stored base64 in user.password_hash), so a user created by a
 * Strata seed can log in to a real Medusa server.
 *
 * The format is Colin Percival's scrypt file header, 96 bytes:
 *
 *    0  6  "scrypt"
 *    6  1  version, 0
 *    7  1  logN
 *    8  4  r, big-endian
 *   12  4  p, big-endian
 *   16 32  salt
 *   48 16  the first 16 bytes of SHA-256(bytes 0-47)
 *   64 32  HMAC-SHA-256(bytes 0-63), keyed with bytes 32-63 of
 *          scrypt(password, salt, N = 2^logN, r, p, 64 bytes)
 */
#include "seed.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#define KDF_LEN 96

static int derive(const char *password, const unsigned char header[64], unsigned char mac[32])
{
    int logN = header[7];
    uint64_t r = (uint64_t)header[8] << 24 | (uint64_t)header[9] << 16 | (uint64_t)header[10] << 8 |
                 header[11];
    uint64_t p = (uint64_t)header[12] << 24 | (uint64_t)header[13] << 16 |
                 (uint64_t)header[14] << 8 | header[15];
    if (logN < 1 || logN > 30 || r == 0 || p == 0)
        return -1;
    unsigned char dk[64];
    if (EVP_PBE_scrypt(password, strlen(password), header + 16, 32, (uint64_t)1 << logN, r, p,
                       (uint64_t)2 << 30, dk, sizeof dk) != 1)
        return -1;
    unsigned int maclen = 0;
    int ok = HMAC(EVP_sha256(), dk + 32, 32, header, 64, mac, &maclen) != NULL && maclen == 32;
    OPENSSL_cleanse(dk, sizeof dk);
    return ok ? 0 : -1;
}

int seed_scrypt_kdf(const char *password, int logN, unsigned r, unsigned p,
                    const unsigned char *salt, char **out)
{
    unsigned char k[KDF_LEN];
    memset(k, 0, sizeof k);
    memcpy(k, "scrypt", 6);
    k[6] = 0;
    k[7] = (unsigned char)logN;
    for (int i = 0; i < 4; i++) {
        k[8 + i] = (unsigned char)(r >> (24 - 8 * i));
        k[12 + i] = (unsigned char)(p >> (24 - 8 * i));
    }
    if (salt)
        memcpy(k + 16, salt, 32);
    else if (RAND_bytes(k + 16, 32) != 1)
        return strata_set_error(STRATA_EINPUT, "cannot draw a random salt for a password hash");
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(k, 48, digest);
    memcpy(k + 48, digest, 16);
    if (derive(password, k, k + 64) != 0)
        return strata_set_error(STRATA_EINPUT, "scrypt failed (logN %d, r %u, p %u)", logN, r, p);
    char *b64 = xmalloc(4 * ((KDF_LEN + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, k, KDF_LEN);
    *out = b64;
    return 0;
}

int seed_scrypt_verify(const char *hash_b64, const char *password)
{
    size_t n = strlen(hash_b64);
    if (n != 128)
        return 0;
    unsigned char k[KDF_LEN + 3];
    if (EVP_DecodeBlock(k, (const unsigned char *)hash_b64, (int)n) != KDF_LEN)
        return 0;
    if (memcmp(k, "scrypt", 6) != 0 || k[6] != 0)
        return 0;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(k, 48, digest);
    if (CRYPTO_memcmp(digest, k + 48, 16) != 0)
        return 0;
    unsigned char mac[32];
    if (derive(password, k, mac) != 0)
        return 0;
    return CRYPTO_memcmp(mac, k + 64, 32) == 0;
}
