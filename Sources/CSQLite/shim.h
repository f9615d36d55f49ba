#ifndef ZBSYNC_CSQLITE_SHIM_H
#define ZBSYNC_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
