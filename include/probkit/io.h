/* probkit/io.h — files and data formats: CSV tables, n-d arrays (IDX, NPY,
 * safetensors), PNG images, atomic writes.
 *
 * Readers never trust their input: every length and count is checked, and a
 * malformed file yields PK_EFORMAT with a message naming the file and the
 * problem ("t10k.idx: header says 10000 images of 28x28 but only 5120 bytes
 * follow").  Each `*_read(path)` has a `*_parse(buf, len, name)` twin that
 * works on memory (the fuzz targets call those).  Writers write to a
 * temporary file beside the target and rename it into place, so a failed
 * write never leaves a half-written file.
 */
#ifndef PROBKIT_IO_H
#define PROBKIT_IO_H

#include <stdio.h>

#include "probkit/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- whole files ------------------------------------------------------------ */

/** Read a whole file into a malloc'd buffer (NUL-terminated beyond len).
 *  Files ending in ".gz" are inflated transparently.  max_len (0 = 1 GiB)
 *  bounds the (inflated) size. */
int pk_file_read_all(const char *path, size_t max_len, uint8_t **buf, size_t *len, pk_err *err);

/** Write len bytes to path atomically (temp file + fsync + rename). */
int pk_file_write_atomic(const char *path, const void *buf, size_t len, pk_err *err);

/** A file being written atomically: write to `fp`, then commit or abort. */
typedef struct pk_atomic_file {
    FILE *fp;
    char *path;
    char *tmp;
} pk_atomic_file;
int pk_atomic_open(pk_atomic_file *f, const char *path, pk_err *err);
/** Flush, close and rename into place. On failure the temp file is removed. */
int pk_atomic_commit(pk_atomic_file *f, pk_err *err);
/** Close and remove the temp file; the target is untouched. Safe to call twice. */
void pk_atomic_abort(pk_atomic_file *f);

/** mkdir -p. */
int pk_mkdirs(const char *path, pk_err *err);

/** pk_file_write_atomic, gzip-compressing first when path ends in ".gz". */
int pk_file_write_auto(const char *path, const void *buf, size_t len, pk_err *err);
/** Compress len bytes into a malloc'd gzip stream (*out, *out_len).
 *  @return PK_OK, PK_ENOMEM, or PK_EINTERNAL if zlib fails. */
int pk_gzip_compress(const void *buf, size_t len, uint8_t **out, size_t *out_len);

/** SHA-256 of len bytes: 32 raw bytes, or 64 lowercase hex digits + NUL. */
void pk_sha256(const void *data, size_t len, uint8_t out[32]);
void pk_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- n-d arrays ---------------------------------------------------------------- */

typedef enum pk_dtype {
    PK_DTYPE_U8 = 0,
    PK_DTYPE_I8,
    PK_DTYPE_I16,
    PK_DTYPE_I32,
    PK_DTYPE_I64,
    PK_DTYPE_F16, /* storage only: converted on read by pk_array_to_f64/f32 */
    PK_DTYPE_BF16,
    PK_DTYPE_F32,
    PK_DTYPE_F64,
    PK_DTYPE_BOOL
} pk_dtype;

#define PK_ARRAY_MAXDIM 8

/** A dense C-order array that owns its data. */
typedef struct pk_array {
    pk_dtype dtype;
    int ndim;
    int64_t shape[PK_ARRAY_MAXDIM];
    void *data;
} pk_array;

/** Bytes per element of a dtype. */
size_t pk_dtype_size(pk_dtype t);
/** "u8", "f32", ... */
const char *pk_dtype_name(pk_dtype t);
/** Allocate a zeroed array. NULL on bad shape (ndim > 8, negative dims, overflow) or no memory. */
pk_array *pk_array_new(pk_dtype t, int ndim, const int64_t *shape);
void pk_array_free(pk_array *a);
/** Number of elements. */
size_t pk_array_numel(const pk_array *a);
size_t pk_array_nbytes(const pk_array *a);
/** Converted copies (malloc'd, numel entries; the caller frees).
 *  @return PK_OK, PK_EINVAL (bad array) or PK_ENOMEM. */
int pk_array_to_f64(const pk_array *a, double **out);
int pk_array_to_f32(const pk_array *a, float **out);
/** Element i (flat C-order index, i < numel) converted to double. */
double pk_array_get(const pk_array *a, size_t i);
/** A deep copy, or NULL on no memory. */
pk_array *pk_array_copy(const pk_array *a);
/** dtype by its pk_dtype_name ("u8", "f32", ...): PK_OK or PK_EINVAL. */
int pk_dtype_from_name(const char *name, pk_dtype *out);
/** IEEE binary16 <-> double (round to nearest even; overflow to +-inf). */
double pk_half_to_double(uint16_t h);
uint16_t pk_double_to_half(double x);

/* IDX (MNIST): magic 0x0000 <type> <ndim>, big-endian dims, big-endian data.
 * Types u8, i8, i16, i32, f32, f64; rank 1..8.  Reading accepts raw or ".gz"
 * files; the data must exactly fill the file (truncation and trailing bytes
 * are PK_EFORMAT).  Writing gzips when path ends in ".gz"; other dtypes give
 * PK_ENOTSUP. */
int pk_idx_read(const char *path, pk_array **out, pk_err *err);
int pk_idx_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err);
int pk_idx_write(const char *path, const pk_array *a, pk_err *err);

/* NPY v1/v2/v3, little- or big-endian, C order (Fortran order is transposed on read).
 * Read dtypes: b1, u1, i1, i2, i4, i8, f2, f4, f8, and u2/u4 widened to
 * i32/i64; others (complex, structured, u8) give PK_ENOTSUP.  The header is
 * parsed strictly (exactly the keys descr, fortran_order, shape) and the data
 * must fill the rest of the file.  Writing produces version 1.0 in C order,
 * little-endian; bf16 has no NPY dtype (PK_ENOTSUP). */
int pk_npy_read(const char *path, pk_array **out, pk_err *err);
int pk_npy_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err);
int pk_npy_write(const char *path, const pk_array *a, pk_err *err);

/* safetensors: a set of named arrays plus optional string metadata.
 * Read dtypes BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64, and U16/U32
 * widened to i32/i64 (others PK_ENOTSUP).  Rejected with PK_EFORMAT: a header
 * over 100 MiB or past the end, invalid JSON, duplicate or empty names,
 * unknown per-tensor keys, negative or non-integer shapes, data_offsets that
 * disagree with shape x dtype size, and tensors that do not tile the data
 * section exactly (gaps, overlaps, trailing bytes).  Arrays keep the file's
 * header order.  The returned file owns everything; free with
 * pk_tensor_file_free (accepts NULL). */
typedef struct pk_tensor_file {
    size_t n;
    char **names;
    pk_array **arrays;
    size_t n_meta;
    char **meta_keys;
    char **meta_values;
} pk_tensor_file;
int pk_safetensors_read(const char *path, pk_tensor_file **out, pk_err *err);
int pk_safetensors_parse(const uint8_t *buf, size_t len, const char *name, pk_tensor_file **out, pk_err *err);
/** Write n named arrays (names unique, non-empty, valid UTF-8, not
 *  "__metadata__") with optional metadata (may be 0/NULL), in the given order,
 *  header padded to 8 bytes.  Bad names/dtypes: PK_EINVAL, nothing written. */
int pk_safetensors_write(const char *path, size_t n, const char *const *names, const pk_array *const *arrays,
                         size_t n_meta, const char *const *meta_keys, const char *const *meta_values, pk_err *err);
/** The array called `name`, or NULL. */
const pk_array *pk_tensor_file_get(const pk_tensor_file *f, const char *name);
void pk_tensor_file_free(pk_tensor_file *f);

/* PNG: 8-bit grey (H x W), grey+alpha / RGB / RGBA (H x W x C) as u8 arrays.
 * 16-bit and palette images are converted to 8-bit grey/RGB(A) on read
 * (16-bit values rounded to v*255/65535; tRNS becomes an alpha channel;
 * 1/2/4-bit grey expanded to 0..255; interlacing undone; no gamma applied).
 * Images over 10^6 pixels a side or 1 GiB decoded are refused (PK_EFORMAT)
 * before allocation; libpng errors (CRC, truncation, bad IHDR) are
 * PK_EFORMAT with libpng's reason.  Writing takes u8 H x W or H x W x C with
 * C in 1..4 and H, W >= 1 (else PK_EINVAL, nothing written). */
int pk_png_read(const char *path, pk_array **out, pk_err *err);
int pk_png_parse(const uint8_t *buf, size_t len, const char *name, pk_array **out, pk_err *err);
int pk_png_write(const char *path, const pk_array *img, pk_err *err);
/** Encode to a malloc'd PNG in memory (for data: URIs in reports); the
 *  caller frees *png. */
int pk_png_encode(const pk_array *img, uint8_t **png, size_t *len, pk_err *err);

/* ---- CSV tables -------------------------------------------------------------- */

typedef struct pk_csv_opts {
    char delimiter;       /**< ',' by default; '\t' for TSV */
    int has_header;       /**< 1 (default): first row names the columns */
    const char *na_values; /**< comma-separated tokens read as missing; default "NA,na,N/A,n/a,nan,NaN,?," (empty too) */
    size_t skip_lines;     /**< physical lines to skip before the header (default 0; e.g. 1 for sklearn's boston CSV) */
    int require_numeric;   /**< 1: a non-numeric, non-missing cell is an error naming line and column (default 0) */
} pk_csv_opts;
pk_csv_opts pk_csv_opts_default(void);

/** Syntax: fields separated by `delimiter`; a field that starts with '"' is
 *  quoted and may hold delimiters, doubled quotes ("") and newlines; \n, \r\n
 *  and \r end records; blank lines are skipped; a UTF-8 BOM is ignored; spaces
 *  around unquoted cells, and outside the quotes of quoted ones, are trimmed.  Every record must have as many fields
 *  as the first (header) record.  Numbers are parsed without the locale
 *  ([+-]digits[.digits][e[+-]digits], inf).  Without a header, or for an empty
 *  header cell, columns are named V1, V2, ...; repeated names are an error.
 *  Errors are PK_EFORMAT with "file:LINE: column 'c': ..." or, for syntax,
 *  "file:LINE:COL: ..." (physical lines, 1-based).
 *
 *  A parsed table: numeric columns as doubles (missing = NaN); a column with
 *  any non-numeric, non-missing cell is categorical and stored as level codes
 *  0..nlevels-1 (as doubles; missing = NaN), levels in order of appearance. */
typedef struct pk_table {
    size_t nrows, ncols;
    char **names;
    int *categorical;
    size_t *nlevels;
    char ***levels;
    double *values; /* nrows x ncols, row-major */
} pk_table;

int pk_csv_read(const char *path, const pk_csv_opts *opts, pk_table **out, pk_err *err);
int pk_csv_parse(const char *buf, size_t len, const char *name, const pk_csv_opts *opts, pk_table **out,
                 pk_err *err);
void pk_table_free(pk_table *t);
/** Column index by name, or -1. */
int pk_table_find(const pk_table *t, const char *name);
/** Write a numeric table (header from names, may be NULL) atomically, %.17g. */
int pk_csv_write(const char *path, size_t nrows, size_t ncols, const char *const *names, const double *values,
                 pk_err *err);

#ifdef __cplusplus
}
#endif
#endif
