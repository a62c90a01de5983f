/* SHA-256 against FIPS 180-4 / NIST example vectors and sha256sum. */
#include <stdlib.h>
#include <string.h>

#include "pk_test.h"
#include "probkit/io.h"

static int hex_is(const char *msg, size_t len, const char *want)
{
    char h[65];
    pk_sha256_hex(msg, len, h);
    if (strcmp(h, want))
        fprintf(stderr, "sha256(%zu bytes) = %s, want %s\n", len, h, want);
    return !strcmp(h, want);
}

int main(void)
{
    PK_CHECK(hex_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    PK_CHECK(hex_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    PK_CHECK(hex_is(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    /* one million 'a' */
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    PK_CHECK(hex_is(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    /* lengths around the padding boundary: 55, 56, 63, 64 bytes of 'a' (from sha256sum) */
    PK_CHECK(hex_is(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
    PK_CHECK(hex_is(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
    PK_CHECK(hex_is(a, 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"));
    PK_CHECK(hex_is(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
    free(a);
    return pk_test_done();
}
