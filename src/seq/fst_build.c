/* The three transducers of "Transducing Language Models": tokens -> bytes,
 * bytes -> lower-cased text, DNA codons -> amino acids. */
#include <stdlib.h>

#include "fst_priv.h"

int pk_fst_tokens_to_bytes(int32_t ntok, const uint8_t *const *tok_bytes, const size_t *tok_len, pk_fst **out)
{
    if (!out || ntok < 1 || !tok_bytes || !tok_len)
        return PK_EINVAL;
    *out = NULL;
    pk_fst *f = pk_fst_new();
    if (!f || pk_fst_add_state(f) < 0)
        goto nomem;
    f->start = 0;
    f->st[0].final = 0;
    for (int32_t t = 0; t < ntok; t++) {
        size_t L = tok_len[t];
        if (L == 0) {
            if (pk_fst_add_arc(f, 0, t + 1, 0, 0, 0))
                goto nomem;
            continue;
        }
        int32_t cur = 0;
        for (size_t i = 0; i < L; i++) {
            int32_t next = 0;
            if (i + 1 < L && (next = pk_fst_add_state(f)) < 0)
                goto nomem;
            if (pk_fst_add_arc(f, cur, i == 0 ? t + 1 : 0, (int32_t)tok_bytes[t][i] + 1, 0, next))
                goto nomem;
            cur = next;
        }
    }
    *out = f;
    return PK_OK;
nomem:
    pk_fst_free(f);
    return PK_ENOMEM;
}

int pk_fst_lowercase_words(pk_fst **out)
{
    if (!out)
        return PK_EINVAL;
    *out = NULL;
    pk_fst *f = pk_fst_new();
    if (!f || pk_fst_add_state(f) < 0) {
        pk_fst_free(f);
        return PK_ENOMEM;
    }
    f->start = 0;
    f->st[0].final = 0;
    for (int c = 0; c < 256; c++) {
        int o = c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
        if (pk_fst_add_arc(f, 0, c + 1, o + 1, 0, 0)) {
            pk_fst_free(f);
            return PK_ENOMEM;
        }
    }
    *out = f;
    return PK_OK;
}

static const char AMINO[] = "ACDEFGHIKLMNPQRSTVWY*";
/* standard genetic code, codons in T, C, A, G order of each position */
static const char CODE_TCAG[] = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG";

char pk_fst_amino_letter(int32_t l) { return l >= 1 && l <= 21 ? AMINO[l - 1] : 0; }

int pk_fst_dna_codons(pk_fst **out)
{
    if (!out)
        return PK_EINVAL;
    *out = NULL;
    static const int TCAG_OF[4] = {2, 1, 3, 0}; /* A, C, G, T -> position in TCAG */
    pk_fst *f = pk_fst_new();
    if (!f || pk_fst_ensure_states(f, 21))
        goto nomem;
    f->start = 0;
    for (int32_t s = 0; s < 21; s++)
        f->st[s].final = 0; /* a trailing partial codon emits nothing: f is total */
    for (int a = 0; a < 4; a++) {
        if (pk_fst_add_arc(f, 0, a + 1, 0, 0, 1 + a))
            goto nomem;
        for (int b = 0; b < 4; b++) {
            if (pk_fst_add_arc(f, 1 + a, b + 1, 0, 0, 5 + 4 * a + b))
                goto nomem;
            for (int c = 0; c < 4; c++) {
                char aa = CODE_TCAG[16 * TCAG_OF[a] + 4 * TCAG_OF[b] + TCAG_OF[c]];
                int32_t l = 0;
                for (int i = 0; i < 21; i++)
                    if (AMINO[i] == aa)
                        l = i + 1;
                if (pk_fst_add_arc(f, 5 + 4 * a + b, c + 1, l, 0, 0))
                    goto nomem;
            }
        }
    }
    *out = f;
    return PK_OK;
nomem:
    pk_fst_free(f);
    return PK_ENOMEM;
}
