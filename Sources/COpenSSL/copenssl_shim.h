#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* Macros Swift cannot import, as functions (STYLE.md §D.9). */
static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long copenssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}
static inline long copenssl_ctx_set_max_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
}
/* OpenSSL frees a connection's record buffers while it has no partial record (SSL_MODE_RELEASE_BUFFERS). */
static inline long copenssl_ctx_release_buffers(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}
/* A server picks the suite by its own order (`copenssl_ctx_set_ciphers`), not the client's. */
static inline void copenssl_ctx_prefer_server_ciphers(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
}
/* The AEAD suites in the order of Mozilla's "intermediate" configuration (also h2load's): AES-128-GCM first, the
   cheapest strong suite on CPUs with AES-NI, so a client measuring a server spends little on its own crypto.
   Returns 1 when both lists were accepted. */
static inline int copenssl_ctx_set_ciphers(SSL_CTX *ctx) {
    int a = SSL_CTX_set_cipher_list(ctx,
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
        "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
        "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384");
    int b = SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    return a == 1 && b == 1;
}
/* ALPN selection for a server offering h2 and http/1.1 (RFC 7301 §3.2): the first of the server's list the
   client also offers. `arg` is the server's wire-format list. */
static int copenssl_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                                const unsigned char *in, unsigned int inlen, void *arg) {
    const unsigned char *prefs = (const unsigned char *)arg;
    unsigned int plen = (unsigned int)prefs[0];
    (void)ssl;
    if (SSL_select_next_proto((unsigned char **)out, outlen, prefs + 1, plen, in, inlen) == OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}
/* `prefs`: one length byte, then the wire-format list; must outlive the context. */
static inline void copenssl_ctx_set_alpn_select(SSL_CTX *ctx, const unsigned char *prefs) {
    SSL_CTX_set_alpn_select_cb(ctx, copenssl_alpn_select, (void *)prefs);
}
static inline void copenssl_clear_errors(void) { ERR_clear_error(); }
/* The first queued error as text (empty when none). */
static inline void copenssl_error_string(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (e == 0) { if (len) buf[0] = 0; return; }
    ERR_error_string_n(e, buf, len);
}
/* Ciphertext input without a copy into a buffer BIO: a read-only BIO over bytes the caller lends for one call
   (`copenssl_input_lend`). It hands them to OpenSSL as it reads, asks to retry once they are used up, and
   `copenssl_input_left` says how many OpenSSL left unread. The lent bytes are never written. */
typedef struct { const unsigned char *p; size_t n; } copenssl_input;

static int copenssl_input_read(BIO *b, char *out, int len) {
    copenssl_input *in = (copenssl_input *)BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (in->n == 0) { BIO_set_retry_read(b); return -1; }
    size_t k = len > 0 && (size_t)len < in->n ? (size_t)len : in->n;
    memcpy(out, in->p, k);
    in->p += k;
    in->n -= k;
    return (int)k;
}
static long copenssl_input_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void)num; (void)ptr;
    copenssl_input *in = (copenssl_input *)BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_PENDING: return (long)in->n;
    case BIO_CTRL_FLUSH: return 1;
    default: return 0;
    }
}
static int copenssl_input_create(BIO *b) {
    copenssl_input *in = (copenssl_input *)calloc(1, sizeof *in);
    if (!in) return 0;
    BIO_set_data(b, in);
    BIO_set_init(b, 1);
    return 1;
}
static int copenssl_input_destroy(BIO *b) {
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}
/* The method, made once per TLS context (freed with BIO_meth_free after its last BIO). NULL when out of memory. */
static inline BIO_METHOD *copenssl_input_method_new(void) {
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "fastperf lent input");
    if (!m) return NULL;
    BIO_meth_set_read(m, copenssl_input_read);
    BIO_meth_set_ctrl(m, copenssl_input_ctrl);
    BIO_meth_set_create(m, copenssl_input_create);
    BIO_meth_set_destroy(m, copenssl_input_destroy);
    return m;
}
static inline void copenssl_input_lend(BIO *b, const void *p, size_t n) {
    copenssl_input *in = (copenssl_input *)BIO_get_data(b);
    in->p = (const unsigned char *)p;
    in->n = n;
}
static inline size_t copenssl_input_left(BIO *b) { return ((copenssl_input *)BIO_get_data(b))->n; }
#endif
