#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Macros Swift cannot import, as functions (STYLE.md §D.9). */
static inline long copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long copenssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
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
#endif
