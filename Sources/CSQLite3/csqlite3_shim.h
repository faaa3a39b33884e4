#ifndef CSQLITE3_SHIM_H
#define CSQLITE3_SHIM_H
#include <sqlite3.h>
/* SQLITE_TRANSIENT is a cast of -1 to a function pointer; Swift cannot import it. SQLITE_STATIC is nil in Swift. */
static inline sqlite3_destructor_type csqlite3_transient(void) { return SQLITE_TRANSIENT; }
#endif
