/* mx: the compatibility matrix. A SQLite database of runs and results,
 * the documented expectations (one source per published table), the
 * comparison of observed against expected, and the renderers. It knows
 * nothing of RocksDB or of how a result was produced. */
#ifndef MX_H
#define MX_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "rt_err.h"

typedef struct mx_db mx_db;

/* FLIP-193 ownership as it happened in a result's scenario: each restore,
 * and when the job deleted the restored snapshot's files (the engine's own
 * deletions, grouped by the checkpoint whose completion deleted them and
 * by cause: "subsumed", "unused", "replaced" or "aborted"). */
#define MX_OWN_RESTORES_MAX 4
#define MX_OWN_EVENTS_MAX 12
typedef struct mx_own_restore {
    char mode[12];        /* claim|no-claim|legacy */
    char snapshot[12];    /* savepoint|checkpoint */
    int64_t snapshot_id;
    uint32_t files, gone; /* files it held (its _metadata too), deleted by the job */
    uint32_t referenced;  /* still used by the job's later retained checkpoints at its end */
} mx_own_restore;
typedef struct mx_own_event {
    int restore;              /* index into restores */
    int64_t after_checkpoint; /* -1: an abort */
    uint64_t virtual_ms;
    uint32_t files;
    char cause[12];
    char example[64];
} mx_own_event;

/* One observed result: one scenario run for one (row, kind, backend). */
typedef struct mx_result {
    char scenario[64];   /* scenario file stem, e.g. "backend_change" */
    char impl[8];        /* "model" (the simulator) or "flink" (the real-Flink lane) */
    char guarantee[48];  /* row id, e.g. "backend-change" (see mx_rows) */
    char kind[16];       /* canonical|native|aligned|unaligned */
    char backend[32];    /* backend(s), e.g. "heap" or "heap->rocksdb" */
    char versions[32];   /* engine versions, e.g. "1.15.0->1.16.0" ("" if none) */
    char outcome[16];    /* works|rejected|corrupted|crashed */
    char reason[512];    /* the rejection message, or what the oracle found */
    uint64_t seed;
    char digest[17];     /* trace digest, 16 hex digits */
    uint64_t virtual_ms;
    uint64_t files;      /* files written */
    uint64_t bytes;      /* bytes written */
    int n_restores, n_events;
    mx_own_restore restores[MX_OWN_RESTORES_MAX];
    mx_own_event events[MX_OWN_EVENTS_MAX];
} mx_result;

/* The rows of the guarantees table, in the documentation's order. */
typedef struct mx_row {
    const char *id;     /* "backend-change" */
    const char *title;  /* "State backend change" */
} mx_row;
extern const mx_row mx_rows[];
extern const int mx_row_count;

rt_err mx_open(mx_db **out, const char *path, rt_error *e);
void mx_close(mx_db *db);

/* A run: when (an ISO date string given by the caller, never read from the
 * clock here), code revision, options (free text / JSON), and uid, what
 * `matrix merge` tells runs apart by besides those: NULL makes a fresh random
 * one (a run of its own, even if another began in the same second), "" or a
 * name shared on purpose makes runs of the same when, revision and options
 * merge into one (the shards of one run). */
rt_err mx_run_begin(mx_db *db, const char *when, const char *revision, const char *options,
                    const char *uid, int64_t *run_id, rt_error *e);
rt_err mx_record(mx_db *db, int64_t run_id, const mx_result *r, rt_error *e);
/* A run is one transaction: mx_run_end commits it, and mx_close of a run
 * that never reached mx_run_end discards it whole. mx_run_commit commits
 * what run_id recorded so far and keeps the run open: a long sweep calls
 * it every so many results, so a killed sweep keeps the results before its
 * last commit and another writer gets its turn in between (it holds the
 * database's write lock only until then). */
rt_err mx_run_commit(mx_db *db, int64_t run_id, rt_error *e);
rt_err mx_run_end(mx_db *db, int64_t run_id, rt_error *e);

/* Loads every matrix/expect/ *.json file: {"source": "...", "title": "...",
 * "cells": {"<row id>": {"canonical":"yes|no|maybe|unknown", ...}}}. */
rt_err mx_load_expectations(mx_db *db, const char *dir, rt_error *e);

/* Renderers of the latest run: guarantees.md, index.html, results.csv,
 * results.json and junit.xml into out_dir. */
rt_err mx_render_all(mx_db *db, const char *out_dir, rt_error *e);

/* s as a JSON string (NULL: null); bytes jansson refuses (invalid UTF-8)
 * become '?' rather than losing the member or the object. */
json_t *mx_json_text(const char *s);

/* Regressions and changes between two databases (latest run of each);
 * *regressions counts results that stopped working plus any corrupted or
 * crashed result in NEW. Costs apart: every change in files and bytes
 * written is listed, and *cost_regressions (may be NULL) counts results
 * that write more than 10% more bytes than before. */
rt_err mx_diff(const char *old_path, const char *new_path, FILE *out, int *regressions, int *cost_regressions,
               rt_error *e);
/* The latest run's results of implementation old_impl ("model" or "flink")
 * in old_path against new_impl's in new_path (the same file is fine): every
 * key both ran whose outcomes differ is printed and counted. */
rt_err mx_diff_impls(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                     FILE *out, int *disagreements, rt_error *e);
/* Either diff as one JSON object (matrix diff --json; *out is the
 * caller's): old_impl NULL for mx_diff's, else mx_diff_impls's with
 * old_impl and new_impl. {"mode": "runs"|"impls", "old"/"new": {path,
 * impl, run, started, keys}, "changes": [{change, scenario, guarantee,
 * kind, backend, versions, old_outcome, new_outcome, old_reason,
 * new_reason}], "costs": [{change, key..., old_files, new_files, old_bytes,
 * new_bytes, bytes_change_pct}], "summary": {every count of both forms,
 * null where the other form counts it}}. *differ is the regressions or
 * the disagreements, *cost_regressions (may be NULL) as mx_diff's. */
rt_err mx_diff_json(const char *old_path, const char *old_impl, const char *new_path, const char *new_impl,
                    json_t **out, int *differ, int *cost_regressions, rt_error *e);
/* Copies the runs and results of every input into out (created if needed). */
rt_err mx_merge(const char *out_path, const char *const *in_paths, int n_in, rt_error *e);

#endif
