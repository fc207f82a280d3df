/* schema.c - see schema.h. */
#include "store/schema.h"

const char *const schema_migrations[] = {
    /* 1: tasks and their notifier deliveries */
    "CREATE TABLE tasks ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL UNIQUE,"
    "  service TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  client TEXT NOT NULL DEFAULT '',"
    "  out_name TEXT NOT NULL DEFAULT '',"
    "  argv_json TEXT NOT NULL,"
    "  inputs TEXT NOT NULL DEFAULT '',"
    "  notifier TEXT,"
    "  reason TEXT,"
    "  ctime REAL NOT NULL,"
    "  stime REAL NOT NULL DEFAULT 0,"
    "  etime REAL NOT NULL DEFAULT 0,"
    "  size_in INTEGER NOT NULL DEFAULT 0,"
    "  size_out INTEGER NOT NULL DEFAULT -1,"
    "  timeout INTEGER NOT NULL,"
    "  pid INTEGER NOT NULL DEFAULT 0,"
    "  pid_start INTEGER NOT NULL DEFAULT 0,"
    "  exit_code INTEGER NOT NULL DEFAULT -1,"
    "  runs INTEGER NOT NULL DEFAULT 0,"
    "  cancel_requested INTEGER NOT NULL DEFAULT 0,"
    "  kind INTEGER NOT NULL DEFAULT 0"  /* 0 run by rrcloudd, 1 print job */
    ");"
    "CREATE INDEX tasks_status ON tasks(status, kind, seq);"
    "CREATE INDEX tasks_client ON tasks(client, seq);"
    "CREATE INDEX tasks_etime ON tasks(etime) WHERE status >= 2;"
    "CREATE TABLE notifications ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  task_id TEXT NOT NULL,"
    "  url TEXT NOT NULL,"
    "  body TEXT,"
    "  state INTEGER NOT NULL DEFAULT 0," /* 0 pending, 1 done, 2 gave up */
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_at REAL NOT NULL,"
    "  last_error TEXT,"
    "  created REAL NOT NULL"
    ");"
    "CREATE INDEX notifications_due ON notifications(state, next_at);"
    "CREATE INDEX notifications_task ON notifications(task_id);",
};

const int schema_count =
    (int)(sizeof(schema_migrations) / sizeof(schema_migrations[0]));
