/*
 * ids.c - generated values of the seed format: `{"$id": "prefix"}` (a
 * prefix_ULID id as Medusa's generateEntityId makes them), `{"$uuid": true}`
 * and `{"$now": true}`.
 *
 * A ULID (github.com/ulid/spec) is 48 bits of Unix time in milliseconds and
 * 80 random bits, written as 26 characters of Crockford's base32. Within one
 * millisecond the random part is incremented instead of redrawn, so ids made
 * by one seed sort in the order they were made, as the spec's monotonic
 * generator does; the random bits come from OpenSSL's CSPRNG.
 */
#include "seed.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static pthread_mutex_t ulid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ms;
static unsigned char last_rand[10];

static void random_bytes(unsigned char *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1) {
        /* RAND_bytes only fails when the CSPRNG cannot be seeded at all;
         * as for lack of memory, the library aborts (strata.h, "Memory") */
        abort();
    }
}

void seed_ulid(char out[27])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
    unsigned char r[10];

    pthread_mutex_lock(&ulid_lock);
    if (ms <= last_ms) {
        /* Same millisecond (or the clock stepped back): increment. */
        ms = last_ms;
        int i = 9;
        while (i >= 0 && ++last_rand[i] == 0)
            i--;
        if (i < 0) {
            /* 2^80 ids in one millisecond: move to the next one. */
            ms = ++last_ms;
            random_bytes(last_rand, sizeof last_rand);
        }
    } else {
        last_ms = ms;
        random_bytes(last_rand, sizeof last_rand);
    }
    memcpy(r, last_rand, sizeof r);
    pthread_mutex_unlock(&ulid_lock);

    /* 10 characters of time (50 bits, the top two always zero). */
    for (int i = 9; i >= 0; i--) {
        out[i] = crockford[ms & 31];
        ms >>= 5;
    }
    /* 16 characters of randomness: 80 bits, 5 at a time, most significant first. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, byte = bit / 8, shift = bit % 8;
        unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < 10 ? r[byte + 1] : 0);
        out[10 + i] = crockford[(v >> (11 - shift)) & 31];
    }
    out[26] = '\0';
}

void seed_uuid(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

void seed_now_utc(char out[32])
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    time_t t = tv.tv_sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06u", (unsigned)tv.tv_usec % 1000000u);
}
