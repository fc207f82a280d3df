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

    /* 2: the fleet (store_fleet.h).  State columns hold the enums of
     * fleet/model.h; attempts with state < 4 are live. */
    "CREATE TABLE frontends ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE,"
    "  region TEXT NOT NULL DEFAULT '',"
    "  url TEXT NOT NULL DEFAULT '',"
    "  namespace TEXT NOT NULL DEFAULT '',"
    "  canary_url TEXT NOT NULL DEFAULT '',"
    "  capacity INTEGER NOT NULL,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  healthy INTEGER NOT NULL DEFAULT 1,"
    "  from_conf INTEGER NOT NULL DEFAULT 0,"
    "  last_check REAL NOT NULL DEFAULT 0,"
    "  unhealthy_since REAL NOT NULL DEFAULT 0,"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  consecutive_failures INTEGER NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL"
    ");"
    "CREATE TABLE queues ("
    "  name TEXT PRIMARY KEY,"
    "  created REAL NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO queues (name, created) VALUES ('default', 0);"
    "CREATE TABLE printers ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  token_hash TEXT NOT NULL UNIQUE,"
    "  region TEXT NOT NULL DEFAULT '',"
    "  site TEXT NOT NULL DEFAULT '',"
    "  frontend_id INTEGER NOT NULL DEFAULT 0,"
    "  share_url TEXT NOT NULL DEFAULT '',"
    "  share_auth TEXT NOT NULL DEFAULT '',"
    "  api_key TEXT NOT NULL DEFAULT '',"
    "  profile TEXT NOT NULL DEFAULT '',"
    "  material TEXT NOT NULL DEFAULT '',"
    "  colour TEXT NOT NULL DEFAULT '',"
    "  last_material TEXT NOT NULL DEFAULT '',"
    "  last_colour TEXT NOT NULL DEFAULT '',"
    "  tags TEXT NOT NULL DEFAULT '',"
    "  auto_eject INTEGER NOT NULL DEFAULT 0,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  observed INTEGER NOT NULL DEFAULT 0,"
    "  klippy_state TEXT NOT NULL DEFAULT '',"
    "  moonraker_version TEXT NOT NULL DEFAULT '',"
    "  needs_clearing INTEGER NOT NULL DEFAULT 0,"
    "  maintenance INTEGER NOT NULL DEFAULT 0,"
    "  quarantined INTEGER NOT NULL DEFAULT 0,"
    "  hold_reason TEXT NOT NULL DEFAULT '',"
    "  consecutive_failures INTEGER NOT NULL DEFAULT 0,"
    "  attempt_id INTEGER NOT NULL DEFAULT 0,"
    "  pending_cmd INTEGER NOT NULL DEFAULT 0,"
    "  move_pending INTEGER NOT NULL DEFAULT 0,"
    "  enrolled_at REAL NOT NULL,"
    "  last_seen REAL NOT NULL DEFAULT 0,"
    "  last_heartbeat REAL NOT NULL DEFAULT 0,"
    "  state_since REAL NOT NULL DEFAULT 0,"
    "  ready_since REAL NOT NULL DEFAULT 0,"
    "  prints_ok INTEGER NOT NULL DEFAULT 0,"
    "  prints_failed INTEGER NOT NULL DEFAULT 0,"
    "  print_seconds REAL NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX printers_state ON printers(state);"
    "CREATE INDEX printers_frontend ON printers(frontend_id);"
    "CREATE INDEX printers_cmd ON printers(pending_cmd) WHERE pending_cmd > 0;"
    "CREATE TABLE printer_queues ("
    "  printer_id INTEGER NOT NULL REFERENCES printers(id) ON DELETE CASCADE,"
    "  queue TEXT NOT NULL,"
    "  PRIMARY KEY (printer_id, queue)"
    ") WITHOUT ROWID;"
    "CREATE INDEX printer_queues_queue ON printer_queues(queue);"
    "CREATE TABLE blobs ("
    "  sha256 TEXT PRIMARY KEY,"
    "  size INTEGER NOT NULL,"
    "  refcount INTEGER NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL,"
    "  zero_since REAL NOT NULL DEFAULT 0"  /* refcount 0 since; purge */
    ") WITHOUT ROWID;"
    "CREATE TABLE jobs ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  queue TEXT NOT NULL DEFAULT '',"
    "  printer_id INTEGER NOT NULL DEFAULT 0,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  priority INTEGER NOT NULL DEFAULT 0,"
    "  copies INTEGER NOT NULL,"
    "  material TEXT NOT NULL DEFAULT '',"
    "  colour TEXT NOT NULL DEFAULT '',"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  position REAL NOT NULL,"
    "  created REAL NOT NULL,"
    "  started REAL NOT NULL DEFAULT 0,"
    "  ended REAL NOT NULL DEFAULT 0,"
    "  task_id TEXT,"
    "  owner TEXT NOT NULL DEFAULT '',"
    "  notifier TEXT,"
    "  reason TEXT,"
    "  cancelling INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX jobs_queue ON jobs(queue, state, priority, position);"
    "CREATE INDEX jobs_active ON jobs(state) WHERE state < 2;"
    "CREATE INDEX jobs_task ON jobs(task_id) WHERE task_id IS NOT NULL;"
    "CREATE INDEX jobs_ended ON jobs(ended) WHERE state >= 2;"
    "CREATE TABLE job_files ("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  profile TEXT NOT NULL DEFAULT '',"
    "  sha256 TEXT NOT NULL REFERENCES blobs(sha256),"
    "  filename TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  PRIMARY KEY (job_id, profile)"
    ") WITHOUT ROWID;"
    "CREATE INDEX job_files_profile ON job_files(profile);"
    "CREATE TABLE job_copies ("
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  printer_id INTEGER NOT NULL DEFAULT 0,"  /* where it completed */
    "  reason TEXT,"
    "  PRIMARY KEY (job_id, idx)"
    ") WITHOUT ROWID;"
    "CREATE INDEX job_copies_queued ON job_copies(state) WHERE state = 0;"
    "CREATE TABLE attempts ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    "  copy INTEGER NOT NULL,"
    "  printer_id INTEGER NOT NULL,"
    "  state INTEGER NOT NULL DEFAULT 0,"
    "  sha256 TEXT NOT NULL,"
    "  filename TEXT NOT NULL DEFAULT '',"
    "  ready_at REAL NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL,"
    "  upload_at REAL NOT NULL DEFAULT 0,"
    "  started REAL NOT NULL DEFAULT 0,"
    "  ended REAL NOT NULL DEFAULT 0,"
    "  lease_until REAL NOT NULL,"
    "  reason TEXT"
    ");"
    /* Exactly one live attempt per copy, ever. */
    "CREATE UNIQUE INDEX attempts_one_live ON attempts(job_id, copy) "
    "  WHERE state < 4;"
    "CREATE INDEX attempts_live ON attempts(state, lease_until) "
    "  WHERE state < 4;"
    "CREATE INDEX attempts_printer ON attempts(printer_id, filename);"
    "CREATE INDEX attempts_job ON attempts(job_id, printer_id, state);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time REAL NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  printer_id INTEGER NOT NULL DEFAULT 0,"
    "  job_id INTEGER NOT NULL DEFAULT 0,"
    "  attempt_id INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX events_time ON events(time);"
    "CREATE TABLE api_keys ("
    "  key_hash TEXT PRIMARY KEY,"
    "  role INTEGER NOT NULL,"
    "  name TEXT NOT NULL UNIQUE,"
    "  queue TEXT NOT NULL DEFAULT '',"
    "  material TEXT NOT NULL DEFAULT '',"
    "  colour TEXT NOT NULL DEFAULT '',"
    "  profile TEXT NOT NULL DEFAULT '',"
    "  priority INTEGER NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL"
    ") WITHOUT ROWID;",

    /* 3: what the polls last showed of each printer's print and heaters
     * (fleet_printer_live), apart from the printers row so that these
     * frequent writes touch neither its indexes nor its readers' pages. */
    "CREATE TABLE printer_status ("
    "  printer_id INTEGER PRIMARY KEY REFERENCES printers(id) "
    "    ON DELETE CASCADE,"
    "  updated REAL NOT NULL,"
    "  print_state TEXT NOT NULL DEFAULT '',"
    "  file TEXT NOT NULL DEFAULT '',"
    "  progress REAL NOT NULL DEFAULT 0,"
    "  print_duration REAL NOT NULL DEFAULT 0,"
    "  ext_temp REAL NOT NULL DEFAULT 0,"
    "  ext_target REAL NOT NULL DEFAULT 0,"
    "  bed_temp REAL NOT NULL DEFAULT 0,"
    "  bed_target REAL NOT NULL DEFAULT 0"
    ");",

    /* 4: why a job that no printer can take waits, and since when; a
     * failure an operator forgave (it no longer excludes the printer) */
    ("ALTER TABLE jobs ADD COLUMN waiting_reason TEXT;"
     "ALTER TABLE jobs ADD COLUMN waiting_since REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE attempts ADD COLUMN forgiven INTEGER NOT NULL DEFAULT 0;"),

    /* 5: rrcloudd's heartbeat, one row per host (/healthz reads it) */
    "CREATE TABLE daemons ("
    "  host TEXT PRIMARY KEY,"
    "  pid INTEGER NOT NULL DEFAULT 0,"   /* 0 = stopped cleanly */
    "  started REAL NOT NULL DEFAULT 0,"
    "  beat REAL NOT NULL DEFAULT 0"
    ") WITHOUT ROWID;",

    /* 6: users, keys with an id, a user, expiry, revocation and limits;
     * the owner of every task (a user, or '' for an anonymous task, which
     * belongs to its client address), listed by owner through an index */
    ("CREATE TABLE users ("
     "  name TEXT PRIMARY KEY,"
     "  created REAL NOT NULL"
     ") WITHOUT ROWID;"
     "ALTER TABLE api_keys ADD COLUMN kid TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE api_keys ADD COLUMN user TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE api_keys ADD COLUMN expires REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE api_keys ADD COLUMN revoked REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE api_keys ADD COLUMN queues TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE api_keys ADD COLUMN max_copies INTEGER NOT NULL "
     "  DEFAULT 0;"
     "ALTER TABLE api_keys ADD COLUMN max_priority INTEGER;"  /* NULL: none */
     "ALTER TABLE api_keys ADD COLUMN max_queued INTEGER NOT NULL "
     "  DEFAULT 0;"
     "CREATE UNIQUE INDEX api_keys_kid ON api_keys(kid) WHERE kid != '';"
     "ALTER TABLE tasks ADD COLUMN owner TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX tasks_owner ON tasks(owner, seq);"
     "CREATE INDEX jobs_owner ON jobs(owner, id);"),

    /* 7: what the slicer says about a G-code blob (read by rrcloudd from
     * its comments; meta_read = 0 until then): estimated time, filament
     * (NULL = not said) and the slicer that made it */
    ("ALTER TABLE blobs ADD COLUMN meta_read INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE blobs ADD COLUMN est_time REAL;"
     "ALTER TABLE blobs ADD COLUMN filament_mm REAL;"
     "ALTER TABLE blobs ADD COLUMN filament_cm3 REAL;"
     "ALTER TABLE blobs ADD COLUMN filament_g REAL;"
     "ALTER TABLE blobs ADD COLUMN generator TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX blobs_meta ON blobs(meta_read) WHERE meta_read = 0;"),

    /* 8: fair share and floors (store_fair.c).  Each task's client key
     * (who it counts against: its owner's family, or "ip:ADDRESS" for an
     * anonymous task); per client, its run tasks queued and running and
     * when one last started (the runner's round-robin), kept by triggers
     * so that a pick and a limit check read one row; the bytes the spool
     * holds for tasks and blobs, kept the same way. */
    ("ALTER TABLE tasks ADD COLUMN client_key TEXT NOT NULL DEFAULT '';"
     "UPDATE tasks SET client_key = CASE WHEN owner = '' THEN 'ip:' || "
     "  client ELSE substr(owner, 1, instr(owner || '/', '/') - 1) END;"
     "CREATE INDEX tasks_fifo ON tasks(client_key, seq) "
     "  WHERE status = 0 AND kind = 0;"
     "CREATE TABLE task_clients ("
     "  key TEXT PRIMARY KEY,"
     "  queued INTEGER NOT NULL DEFAULT 0,"
     "  running INTEGER NOT NULL DEFAULT 0,"
     "  served REAL NOT NULL DEFAULT 0"
     ") WITHOUT ROWID;"
     "CREATE INDEX task_clients_turn ON task_clients(running, served) "
     "  WHERE queued > 0;"
     "INSERT INTO task_clients (key, queued, running, served) "
     "  SELECT client_key, sum(status = 0), sum(status = 1), max(stime) "
     "  FROM tasks WHERE kind = 0 AND status < 2 GROUP BY client_key;"
     "CREATE TRIGGER task_clients_ins AFTER INSERT ON tasks "
     "  WHEN NEW.kind = 0 AND NEW.status < 2 BEGIN "
     "  INSERT INTO task_clients (key, queued, running) VALUES "
     "    (NEW.client_key, NEW.status = 0, NEW.status = 1) "
     "  ON CONFLICT (key) DO UPDATE SET queued = queued + excluded.queued, "
     "    running = running + excluded.running;"
     "END;"
     /* A client with nothing queued or running is forgotten: the table
      * holds the clients waiting or served now, not every address seen. */
     "CREATE TRIGGER task_clients_upd AFTER UPDATE OF status ON tasks "
     "  WHEN NEW.kind = 0 AND OLD.status != NEW.status "
     "  AND (OLD.status < 2 OR NEW.status < 2) BEGIN "
     "  INSERT INTO task_clients (key) VALUES (NEW.client_key) "
     "    ON CONFLICT (key) DO NOTHING;"
     "  UPDATE task_clients SET "
     "    queued = queued - (OLD.status = 0) + (NEW.status = 0), "
     "    running = running - (OLD.status = 1) + (NEW.status = 1), "
     "    served = CASE WHEN NEW.status = 1 THEN NEW.stime ELSE served END "
     "    WHERE key = NEW.client_key;"
     "  DELETE FROM task_clients WHERE key = NEW.client_key "
     "    AND queued <= 0 AND running <= 0;"
     "END;"
     "CREATE TRIGGER task_clients_del AFTER DELETE ON tasks "
     "  WHEN OLD.kind = 0 AND OLD.status < 2 BEGIN "
     "  UPDATE task_clients SET queued = queued - (OLD.status = 0), "
     "    running = running - (OLD.status = 1) WHERE key = OLD.client_key;"
     "  DELETE FROM task_clients WHERE key = OLD.client_key "
     "    AND queued <= 0 AND running <= 0;"
     "END;"
     /* Run tasks' inputs and outputs (a print task's file is its blob). */
     "CREATE TABLE spool_usage ("
     "  id INTEGER PRIMARY KEY CHECK (id = 1),"
     "  bytes INTEGER NOT NULL"
     ");"
     "INSERT INTO spool_usage (id, bytes) VALUES (1, "
     "  (SELECT coalesce(sum(size_in + max(size_out, 0)), 0) FROM tasks "
     "   WHERE kind = 0) + (SELECT coalesce(sum(size), 0) FROM blobs));"
     "CREATE TRIGGER spool_task_ins AFTER INSERT ON tasks "
     "  WHEN NEW.kind = 0 BEGIN "
     "  UPDATE spool_usage SET bytes = bytes + NEW.size_in + "
     "    max(NEW.size_out, 0);"
     "END;"
     "CREATE TRIGGER spool_task_out AFTER UPDATE OF size_out ON tasks "
     "  WHEN NEW.kind = 0 AND NEW.size_out != OLD.size_out BEGIN "
     "  UPDATE spool_usage SET bytes = bytes + max(NEW.size_out, 0) - "
     "    max(OLD.size_out, 0);"
     "END;"
     "CREATE TRIGGER spool_task_del AFTER DELETE ON tasks "
     "  WHEN OLD.kind = 0 BEGIN "
     "  UPDATE spool_usage SET bytes = bytes - OLD.size_in - "
     "    max(OLD.size_out, 0);"
     "END;"
     "CREATE TRIGGER spool_blob_ins AFTER INSERT ON blobs BEGIN "
     "  UPDATE spool_usage SET bytes = bytes + NEW.size;"
     "END;"
     "CREATE TRIGGER spool_blob_del AFTER DELETE ON blobs BEGIN "
     "  UPDATE spool_usage SET bytes = bytes - OLD.size;"
     "END;"),

    /* 9: model jobs (a model sliced on demand per printer profile): the
     * model blob, the job's overrides and profile choice, one slice row
     * per profile (store_slices.h), and the G-code cache by content key */
    ("ALTER TABLE jobs ADD COLUMN model_sha256 TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN model_name TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN overrides TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN slice_profiles TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN slice_planned INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX jobs_unplanned ON jobs(id) WHERE model_sha256 != '' AND "
     "  slice_planned = 0;"
     "CREATE TABLE job_slices ("
     "  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
     "  profile TEXT NOT NULL,"
     "  material TEXT NOT NULL DEFAULT '',"
     "  state INTEGER NOT NULL,"        /* enum slice_state */
     "  cache_key TEXT NOT NULL DEFAULT '',"
     "  task_id TEXT,"
     "  reason TEXT,"
     "  updated REAL NOT NULL,"
     "  PRIMARY KEY (job_id, profile)"
     ") WITHOUT ROWID;"
     "CREATE INDEX job_slices_state ON job_slices(state, cache_key);"
     "CREATE TABLE slice_cache ("
     "  key TEXT PRIMARY KEY,"
     "  sha256 TEXT NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  created REAL NOT NULL"
     ") WITHOUT ROWID;"),

    /* 10: task pipelines: every stage of a chain names its first stage
     * (chain, '' for a task alone) and its place in it (stage, from 0);
     * a print stage keeps its job's fields (job_spec, JSON) until the
     * G-code it prints exists.  A later stage is inserted held (kind 2)
     * and released by rrcloudd's chain hook, which changes its kind, not
     * its status: 8's task_clients and spool_usage count run tasks (kind
     * 0) by triggers on insert and on UPDATE OF status or size_out, so a
     * change of kind gets triggers of its own here, and task_clients_upd
     * leaves the rows whose kind changes in the same UPDATE to them.
     * (A released stage's size_in stays 0: the input its chain hook
     * hard-links in is counted once, as the output of the stage that
     * wrote it; a print stage's G-code also as its blob.  The quota
     * counts bytes referenced, so a link counted twice only errs toward
     * refusing early.) */
    ("ALTER TABLE tasks ADD COLUMN chain TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE tasks ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE tasks ADD COLUMN job_spec TEXT;"
     "CREATE INDEX tasks_chain ON tasks(chain, stage) WHERE chain != '';"
     "DROP TRIGGER task_clients_upd;"
     "CREATE TRIGGER task_clients_upd AFTER UPDATE OF status ON tasks "
     "  WHEN OLD.kind = 0 AND NEW.kind = 0 AND OLD.status != NEW.status "
     "  AND (OLD.status < 2 OR NEW.status < 2) BEGIN "
     "  INSERT INTO task_clients (key) VALUES (NEW.client_key) "
     "    ON CONFLICT (key) DO NOTHING;"
     "  UPDATE task_clients SET "
     "    queued = queued - (OLD.status = 0) + (NEW.status = 0), "
     "    running = running - (OLD.status = 1) + (NEW.status = 1), "
     "    served = CASE WHEN NEW.status = 1 THEN NEW.stime ELSE served END "
     "    WHERE key = NEW.client_key;"
     "  DELETE FROM task_clients WHERE key = NEW.client_key "
     "    AND queued <= 0 AND running <= 0;"
     "END;"
     "CREATE TRIGGER task_clients_kind AFTER UPDATE OF kind ON tasks "
     "  WHEN (OLD.kind = 0) != (NEW.kind = 0) "
     "  AND (OLD.status < 2 OR NEW.status < 2) BEGIN "
     "  INSERT INTO task_clients (key) VALUES (NEW.client_key) "
     "    ON CONFLICT (key) DO NOTHING;"
     "  UPDATE task_clients SET "
     "    queued = queued - (OLD.kind = 0 AND OLD.status = 0) "
     "      + (NEW.kind = 0 AND NEW.status = 0), "
     "    running = running - (OLD.kind = 0 AND OLD.status = 1) "
     "      + (NEW.kind = 0 AND NEW.status = 1) "
     "    WHERE key = NEW.client_key;"
     "  DELETE FROM task_clients WHERE key = NEW.client_key "
     "    AND queued <= 0 AND running <= 0;"
     "END;"
     "CREATE TRIGGER spool_task_kind AFTER UPDATE OF kind ON tasks "
     "  WHEN (OLD.kind = 0) != (NEW.kind = 0) BEGIN "
     "  UPDATE spool_usage SET bytes = bytes "
     "    - (OLD.kind = 0) * (OLD.size_in + max(OLD.size_out, 0)) "
     "    + (NEW.kind = 0) * (NEW.size_in + max(NEW.size_out, 0));"
     "END;"),

    /* 11: what the scheduler knows of the floor (store_sites.h): each
     * site's staffed hours (fleet/hours.h text; no row or '' = always
     * staffed), each printer's loaded spool (grams left, NULL = unknown;
     * debited when a print completes), and why a job last waited for
     * hours or filament (held_reason: its "job_held" event once per
     * change, cleared when a copy is dispatched) */
    ("CREATE TABLE sites ("
     "  name TEXT PRIMARY KEY,"
     "  staffed_hours TEXT NOT NULL DEFAULT '',"
     "  updated REAL NOT NULL"
     ") WITHOUT ROWID;"
     "ALTER TABLE printers ADD COLUMN spool_g REAL;"
     "ALTER TABLE printers ADD COLUMN spool_set REAL NOT NULL DEFAULT 0;"
     "ALTER TABLE jobs ADD COLUMN held_reason TEXT;"),

    /* 12: the slice cache is evicted least recently used first
     * (store_slice_cache_evict): each entry's last use, an entry's
     * creation its first */
    ("ALTER TABLE slice_cache ADD COLUMN used REAL NOT NULL DEFAULT 0;"
     "UPDATE slice_cache SET used = created;"
     "CREATE INDEX slice_cache_used ON slice_cache(used);"),

    /* 13: the printer whose limit held a job (held_printer, with
     * held_reason), so setting its spool, its site's hours or removing it
     * releases the job; the partial index reads only held jobs' rows */
    ("ALTER TABLE jobs ADD COLUMN held_printer INTEGER NOT NULL DEFAULT 0;"
     "CREATE INDEX jobs_held ON jobs(held_printer) WHERE held_reason IS "
     "NOT NULL;"),

    /* 14: SCAD model jobs: a job whose model is a source (render = 1) is
     * rendered to an STL by the openscad service before it is planned
     * (store_renders.h): its variables, the render's cache key, its task,
     * and the STL blob it made (a blob reference of the job, like its
     * model's).  The render cache is slice_cache under keys of their own. */
    ("ALTER TABLE jobs ADD COLUMN render INTEGER NOT NULL DEFAULT 0;"
     "ALTER TABLE jobs ADD COLUMN render_defines TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN render_key TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN render_task TEXT NOT NULL DEFAULT '';"
     "ALTER TABLE jobs ADD COLUMN render_sha256 TEXT NOT NULL DEFAULT '';"
     "CREATE INDEX jobs_rendering ON jobs(render_key) WHERE "
     "  render_task != '' AND render_sha256 = '';"),

    /* 15: a blob the slice cache let go of (evicted: when), so a purge
     * pressed by a refused upload takes those after a short grace and
     * never a blob an upload in progress has put but not yet referenced */
    ("ALTER TABLE blobs ADD COLUMN evicted REAL NOT NULL DEFAULT 0;"),
};

const int schema_count =
    (int)(sizeof(schema_migrations) / sizeof(schema_migrations[0]));
